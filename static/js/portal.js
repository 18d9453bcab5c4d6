/*
 * Small progressive enhancements. Every page works without this file.
 *
 * - <form data-prevent-double-submit>: after the first submit its submit
 *   buttons are disabled, so an impatient second click does not post again
 *   (the server still has idempotency keys; this is for the person's sake).
 *   htmx forms are left alone: use hx-disabled-elt on those.
 * - <button data-print>: prints the page. Render it with `hidden` if it
 *   should not show without JavaScript; this file reveals it.
 *
 * No eval, no inline handlers, no dependencies: runs under script-src 'self'.
 */
(function () {
  "use strict";

  var MARK = "data-double-submit-disabled";
  // If a submit does not navigate away (e.g. a download), give the form back.
  var REENABLE_AFTER_MS = 15000;

  function submitButtons(form) {
    var result = [];
    var elements = form.elements;
    for (var i = 0; i < elements.length; i++) {
      var el = elements[i];
      var tag = el.tagName;
      var type = (el.getAttribute("type") || "").toLowerCase();
      if ((tag === "BUTTON" && (type === "" || type === "submit")) ||
          (tag === "INPUT" && (type === "submit" || type === "image"))) {
        result.push(el);
      }
    }
    return result;
  }

  function enable(form) {
    form.removeAttribute("data-submitting");
    var buttons = submitButtons(form);
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].hasAttribute(MARK)) {
        buttons[i].removeAttribute(MARK);
        buttons[i].removeAttribute("aria-disabled");
        buttons[i].disabled = false;
      }
    }
  }

  function disable(form) {
    var buttons = submitButtons(form);
    for (var i = 0; i < buttons.length; i++) {
      if (!buttons[i].disabled) {
        buttons[i].setAttribute(MARK, "");
        buttons[i].setAttribute("aria-disabled", "true");
        buttons[i].disabled = true;
      }
    }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.tagName !== "FORM" || !form.hasAttribute("data-prevent-double-submit")) {
      return;
    }
    if (form.hasAttribute("data-submitting")) {
      event.preventDefault();
      return;
    }
    // Cancelled by someone else (htmx, validation): not a real submit.
    if (event.defaultPrevented) {
      return;
    }
    form.setAttribute("data-submitting", "");
    // Later, so the clicked button's name and value are still sent.
    setTimeout(function () {
      disable(form);
    }, 0);
    setTimeout(function () {
      enable(form);
    }, REENABLE_AFTER_MS);
  });

  // Back/forward: the page may come back with its buttons still disabled.
  window.addEventListener("pageshow", function () {
    var forms = document.querySelectorAll("form[data-prevent-double-submit]");
    for (var i = 0; i < forms.length; i++) {
      enable(forms[i]);
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    var button = target && target.closest ? target.closest("button[data-print]") : null;
    if (button) {
      event.preventDefault();
      window.print();
    }
  });

  function revealPrintButtons() {
    var buttons = document.querySelectorAll("button[data-print][hidden]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", revealPrintButtons);
  } else {
    revealPrintButtons();
  }
})();
