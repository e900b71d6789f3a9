/* The portal's own behaviour, kept out of the pages: the Content-Security-Policy runs scripts
   from 'self' only, so no inline handlers (onchange=, onsubmit=) and no <script> blocks. */
(function () {
  "use strict";

  // htmx (static/vendor/htmx) only where a page asks for it: most pages have no hx- attribute, and a phone on
  // slow 4G paints later for every script it fetches first (bench/lighthouse.py). htmx processes the page when
  // it arrives. It is added once the page has loaded: htmx started between DOMContentLoaded and "complete"
  // would wait for a DOMContentLoaded that has already happened.
  var script = document.currentScript;
  var HTMX_ATTRIBUTES = ["hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "hx-boost"];
  var htmxSelector = HTMX_ATTRIBUTES.map(function (name) { return "[" + name + "],[data-" + name + "]"; }).join(",");
  function loadHtmx() {
    var htmx = document.createElement("script");
    htmx.src = script.dataset.htmxSrc;
    document.head.appendChild(htmx);
  }
  if (script && script.dataset.htmxSrc && !window.htmx && document.querySelector(htmxSelector)) {
    if (document.readyState === "complete") {
      loadHtmx();
    } else {
      window.addEventListener("load", loadHtmx);
    }
  }

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

  // The menu's two disclosures, Bootstrap's markup without Bootstrap's 80 KB of JavaScript (a phone on slow
  // 4G paints the page later for every script it fetches first; bench/lighthouse.py):
  // [data-bs-toggle=collapse] shows its data-bs-target, [data-bs-toggle=dropdown] the .dropdown-menu after it.
  // Bootstrap's CSS does the rest (.collapse.show, .dropdown-menu.show); aria-expanded follows.
  function setOpen(toggle, panel, open) {
    panel.classList.toggle("show", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (panel.classList.contains("dropdown-menu")) {
      panel.setAttribute("data-bs-popper", "static");  // Bootstrap's CSS aligns .dropdown-menu-end with it
    }
  }
  function panelOf(toggle) {
    if (toggle.getAttribute("data-bs-toggle") === "collapse") {
      return document.querySelector(toggle.getAttribute("data-bs-target"));
    }
    return toggle.parentElement && toggle.parentElement.querySelector(".dropdown-menu");
  }
  function closeDropdowns(except) {
    document.querySelectorAll("[data-bs-toggle=dropdown][aria-expanded=true]").forEach(function (toggle) {
      var panel = panelOf(toggle);
      if (toggle !== except && panel) {
        setOpen(toggle, panel, false);
      }
    });
  }
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-bs-toggle=collapse], [data-bs-toggle=dropdown]");
    if (!toggle) {
      if (!(event.target.closest && event.target.closest(".dropdown-menu"))) {
        closeDropdowns(null);
      }
      return;
    }
    var panel = panelOf(toggle);
    if (!panel) {
      return;
    }
    event.preventDefault();
    closeDropdowns(toggle);
    setOpen(toggle, panel, !panel.classList.contains("show"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    var open = document.querySelector("[data-bs-toggle=dropdown][aria-expanded=true]");
    if (open) {
      closeDropdowns(null);
      open.focus();
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
