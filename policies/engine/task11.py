"""The two Shanghai cell therapy plan (2022-2024) key task 11 rules, as plain data.

Test fixtures only: the curated dataset lives elsewhere. The JSON in docs/subsidy-rules.md
must equal these dicts (a test checks it). Dates: the plan was published 2022-11-10 (line 2
of the source) and covers 2022-2024, so it applies from 2022-11-10 to 2024-12-31.
"""

SOURCE_TITLE = (
    "Shanghai Action Plan for Promoting Innovation and Industrial Development in Cell Therapy"
    " (2022–2024)"
)
SOURCE_FILE = "fixtures/sources/002_1d63a8ab57155fe3.txt"

# Key task 11, verbatim from the source file.
TASK_11_TEXT = (
    "To strengthen support for innovative products launched by local companies, enterprises "
    "registered in the city that obtain market authorization and subsequently commercialize "
    "cell therapy products within the city will receive financial assistance of up to 30 "
    "million yuan. The cumulative annual support for each entity will not exceed 100 million "
    "yuan. Additionally, companies involved in cell therapy are encouraged to purchase "
    "biomedical product liability insurance, with eligible entities receiving a 50% government "
    "subsidy on their premiums—capped at 500,000 yuan per policy. Following the principles of "
    '"early engagement and proactive service," efforts will be made to position key, pipeline '
    "cell therapy innovations developed locally as priority focus areas for early communication"
    " and collaboration at the Yangtze River Delta Branch Center of the National Medical "
    "Products Administration’s Drug Review and Inspection Agency. This initiative aims to "
    "provide tailored guidance and support throughout the review and approval process, "
    "accelerating the time-to-market for cell therapy products. Furthermore, a comprehensive "
    "policy compendium will be prepared to help stakeholders swiftly and accurately navigate "
    "the regulatory, administrative, and service-related processes—and access relevant "
    "preferential policies—specifically tailored to cell therapy products. (City Drug "
    "Administration Bureau, City Commission of Economy and Informatization, City Finance "
    "Bureau, City Science and Technology Commission, City Health Commission, City Local "
    "Financial Regulatory Bureau, Shanghai Banking and Insurance Regulatory Bureau)"
)

PRODUCT_SUPPORT_EXCERPT = (
    "enterprises registered in the city that obtain market authorization and subsequently "
    "commercialize cell therapy products within the city will receive financial assistance of "
    "up to 30 million yuan. The cumulative annual support for each entity will not exceed "
    "100 million yuan."
)
LIABILITY_INSURANCE_EXCERPT = (
    "companies involved in cell therapy are encouraged to purchase biomedical product liability "
    "insurance, with eligible entities receiving a 50% government subsidy on their premiums—"
    "capped at 500,000 yuan per policy."
)

ANNUAL_ENTITY_CAP = {
    "code": "sh-cell-therapy-2022-annual-entity-cap",
    "amount": "100000000",
    "currency": "CNY",
    "period": "calendar_year",
}

PRODUCT_SUPPORT_RULE = {
    "code": "sh-cell-therapy-2022-product-support",
    "name": "Cell therapy product launch support (up to CNY 30 million per product)",
    "provision": {
        "path": "IV.11",
        "text": TASK_11_TEXT,
        "excerpt": PRODUCT_SUPPORT_EXCERPT,
        "source_title": SOURCE_TITLE,
        "source_file": SOURCE_FILE,
    },
    "effective_from": "2022-11-10",
    "effective_to": "2024-12-31",
    "currency": "CNY",
    "conditions": [
        {"fact": "company.registered_region", "op": "within", "value": "shanghai"},
        {"fact": "event.kind", "op": "eq", "value": "market_authorization"},
        {"fact": "event.modality", "op": "in", "value": ["cell_therapy"]},
        {"fact": "event.commercialized_in", "op": "within", "value": "shanghai"},
    ],
    "benefit": {"kind": "up_to", "amount": "30000000", "item": "product"},
    "cap_group": "sh-cell-therapy-2022-annual-entity-cap",
}

LIABILITY_INSURANCE_RULE = {
    "code": "sh-cell-therapy-2022-liability-insurance",
    "name": "Biomedical product liability insurance premium subsidy (50%, max CNY 500,000)",
    "provision": {
        "path": "IV.11",
        "text": TASK_11_TEXT,
        "excerpt": LIABILITY_INSURANCE_EXCERPT,
        "source_title": SOURCE_TITLE,
        "source_file": SOURCE_FILE,
    },
    "effective_from": "2022-11-10",
    "effective_to": "2024-12-31",
    "currency": "CNY",
    "conditions": [
        {"fact": "company.registered_region", "op": "within", "value": "shanghai"},
        {"fact": "company.modalities", "op": "in", "value": ["cell_therapy"]},
        {"fact": "event.kind", "op": "eq", "value": "liability_insurance_premium"},
    ],
    "benefit": {"kind": "percentage", "rate": "0.5", "item_cap": "500000", "item": "event"},
    "cap_group": None,
}
