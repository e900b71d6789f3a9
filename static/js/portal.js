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

  // <button data-copy-from="#input">: copy the input's text (the calendar address); the input is
  // selected too, so where the clipboard is refused the member can still copy it by hand.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy-from]");
    if (!button) {
      return;
    }
    var field = document.querySelector(button.getAttribute("data-copy-from"));
    if (!field) {
      return;
    }
    field.focus();
    field.select();
    var done = function () {
      button.textContent = button.getAttribute("data-copied-label") || button.textContent;
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(done, function () {});
    } else if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  });

  // <input data-select-on-focus>: one tap selects the whole address.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("input[data-select-on-focus]")) {
      event.target.select();
    }
  });

  // <div data-scroll-to="selector">: a wide table opens scrolled to the marked column (the heat map
  // to the month in progress), so a phone shows the recent months first.
  function scrollToMarked() {
    document.querySelectorAll("[data-scroll-to]").forEach(function (box) {
      var target = box.querySelector(box.getAttribute("data-scroll-to"));
      if (!target || box.scrollWidth <= box.clientWidth) {
        return;
      }
      box.scrollLeft = Math.max(0, target.offsetLeft + target.offsetWidth - box.clientWidth);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scrollToMarked);
  } else {
    scrollToMarked();
  }
})();
