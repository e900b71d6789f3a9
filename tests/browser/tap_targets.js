// WCAG 2.2 success criterion 2.5.8 Target Size (Minimum), level AA, checked in the page as the browser laid it out.
//
// "The size of the target for pointer inputs is at least 24 by 24 CSS pixels, except when:
//  Spacing: undersized targets (those less than 24 by 24 CSS pixels) are positioned so that if a 24 CSS pixel
//  diameter circle is centered on the bounding box of each, the circles do not intersect another target or the
//  circle for another undersized target; [...] Inline: the target is in a sentence or its size is otherwise
//  constrained by the line-height of non-target text; User agent control: [...] not modified by the author."
// (https://www.w3.org/TR/WCAG22/#target-size-minimum and its "Understanding" note.)
//
// Returns the targets that fail, as plain objects the test prints. Called with no arguments.
return (function () {
  "use strict";
  var MIN = 24, RADIUS = MIN / 2;
  var SELECTOR = "a[href], button, input:not([type=hidden]), select, textarea, summary, label";

  function visible(element) {
    var rect = element.getBoundingClientRect();
    // Visually hidden helpers (Bootstrap's .visually-hidden is a 1 × 1 px clip) and collapsed menus are not targets.
    if (rect.width <= 1 || rect.height <= 1) return false;
    for (var node = element; node && node.nodeType === 1; node = node.parentElement) {
      var style = getComputedStyle(node);
      if (style.visibility === "hidden" || style.display === "none" || Number(style.opacity) === 0) return false;
    }
    return !element.closest("[inert], [aria-hidden=true]");
  }

  // The control a target activates: a label stands for its checkbox or radio, so the two are one target.
  function control(element) {
    if (element.tagName === "LABEL") return element.control || element;
    return element;
  }

  function isTarget(element) {
    if (element.tagName !== "LABEL") return !element.disabled;
    var input = element.control;  // only the labels of checkboxes and radios are tapped to choose
    return !!input && input.tagName === "INPUT" && (input.type === "checkbox" || input.type === "radio");
  }

  // A link inside a sentence: an inline <a> whose block has words of its own outside any target.
  function inSentence(element) {
    if (element.tagName !== "A" || getComputedStyle(element).display !== "inline") return false;
    var block = element.parentElement;
    while (block && getComputedStyle(block).display.indexOf("inline") === 0) block = block.parentElement;
    if (!block) return false;
    var walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (var text = walker.nextNode(); text; text = walker.nextNode()) {
      if (/[\p{L}\p{N}]/u.test(text.data) && !(text.parentElement.closest(SELECTOR))) return true;
    }
    return false;
  }

  function describe(element) {
    var text = (element.innerText || element.value || element.getAttribute("aria-label") || "").trim();
    return element.tagName.toLowerCase() + (element.id ? "#" + element.id : "")
      + (element.className && typeof element.className === "string" ? "." + element.className.trim().split(/\s+/).join(".") : "")
      + (text ? " \"" + text.slice(0, 40).replace(/\s+/g, " ") + "\"" : "");
  }

  function circleHitsRect(cx, cy, r, rect) {
    var dx = cx - Math.max(rect.left, Math.min(cx, rect.right));
    var dy = cy - Math.max(rect.top, Math.min(cy, rect.bottom));
    return dx * dx + dy * dy < r * r;
  }

  var targets = Array.prototype.filter.call(document.querySelectorAll(SELECTOR), function (element) {
    return isTarget(element) && visible(element);
  }).map(function (element) {
    var rect = element.getBoundingClientRect();
    return {element: element, control: control(element), rect: rect,
            cx: rect.left + rect.width / 2, cy: rect.top + rect.height / 2,
            small: rect.width < MIN || rect.height < MIN};
  });

  function related(a, b) {  // the same control, or one inside the other (an input inside its label)
    return a.control === b.control || a.element.contains(b.element) || b.element.contains(a.element);
  }

  var failures = [];
  targets.forEach(function (target) {
    if (!target.small || inSentence(target.element)) return;
    var clash = null;
    for (var i = 0; i < targets.length && !clash; i++) {
      var other = targets[i];
      if (other === target || related(target, other)) continue;
      if (circleHitsRect(target.cx, target.cy, RADIUS, other.rect)) clash = other;
      else if (other.small && Math.hypot(target.cx - other.cx, target.cy - other.cy) < MIN) clash = other;
    }
    if (clash) {
      failures.push({id: target.element.id, target: describe(target.element), width: Math.round(target.rect.width * 10) / 10,
                     height: Math.round(target.rect.height * 10) / 10, too_close_to: describe(clash.element)});
    }
  });
  return failures;
})();
