/* The portal's own behaviour, kept out of the pages: the Content-Security-Policy runs scripts
   from 'self' only, so no inline handlers (onchange=, onsubmit=) and no <script> blocks. */
(function () {
  "use strict";

  // <select data-autosubmit>: submit its form when the choice changes (the language switch).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.matches && field.matches("select[data-autosubmit]") && field.form) {
      field.form.submit();
    }
  });

  // <form data-action-from-select>: the chosen option's value is the address to go to.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-action-from-select]")) {
      var select = form.querySelector("select");
      if (select && select.value) {
        form.action = select.value;
      }
    }
  });
})();
