"""Active ISO 4217 currency codes that can denominate a subsidy or an event amount.

Kept in the engine so validation needs no network or DB. Excluded on purpose: precious metals
(XAU, XAG, XPD, XPT), bond-market and SDR units (XBA-XBD, XDR, XSU, XUA), fund codes (BOV,
CHE, CHW, CLF, COU, MXV, USN, UYI, UYW), and the test / "no currency" codes XTS and XXX.
Withdrawn codes (HRK, SLL, ZWL, CUC, ...) are not listed. Update when ISO amends the list.
"""

# One string keeps the list readable; split() is intended.
ISO_4217_CODES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
    BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
    FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD
    JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
    MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF
    YER ZAR ZMW ZWG
    """.split()  # noqa: SIM905
)


def is_currency_code(value: object) -> bool:
    """True for an active ISO 4217 code such as "CNY" (exact upper case)."""
    return isinstance(value, str) and value in ISO_4217_CODES
