// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  // Facet controls submit their form on change, so a filter is one click, not two.
  document.querySelectorAll("[data-autosubmit]").forEach(function (control) {
    control.addEventListener("change", function () {
      if (control.form) {
        control.form.requestSubmit ? control.form.requestSubmit() : control.form.submit();
      }
    });
  });
  // The language switch submits on change too (the button stays for keyboard/no-JS users).
  var language = document.getElementById("language-select");
  if (language && language.form) {
    language.addEventListener("change", function () { language.form.submit(); });
  }
})();
