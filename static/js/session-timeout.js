/*
 * Session idle-timeout warning (WCAG 2.2.1 Timing Adjustable).
 *
 * The server enforces the timeout; this script only tells the person in time
 * and lets them answer. It reads from <body>:
 *   data-session-idle-seconds  idle timeout (required; without it: do nothing)
 *   data-session-warn-seconds  how long before the end to warn (default 120)
 *   data-session-end-url       where to go when time is up (default /session-slut)
 *   data-session-logged-out-url where to go when the person logged out in another
 *                              tab (default /utloggad)
 *   data-session-tag           names this login, the same in all its tabs
 * and uses the <dialog id="session-dialog"> that the base template renders,
 * with #session-continue (the "Ja, fortsätt" button of an htmx-enhanced form),
 * #session-countdown (m:ss left, silent) and #session-announce (a polite live
 * region that says the time left at 2:00, 1:00, 0:30 and 0:10 only; its texts
 * are in its data-announce-<seconds> attributes).
 *
 * Deadlines are wall-clock times, not counted ticks: browsers throttle timers
 * in background tabs. Other tabs of the same site share the last activity
 * through localStorage, so a person working in one tab is not warned or sent
 * away in another.
 *
 * One login, one end: when the person times out in one tab, or has logged out
 * in one (the logged-out page runs session-ended.js), every other tab of the
 * same login goes to the session-ended or logged-out page at once
 * (BroadcastChannel, and a localStorage "storage" event as well). A "Ja, fortsätt" that the server refuses
 * (the session is already gone) leads to the session-ended page too.
 *
 * No eval, no inline handlers, no dependencies: runs under script-src 'self'.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "sip-portal:last-activity";
  var ENDED_KEY = "sip-portal:ended";
  var CHANNEL_NAME = "sip-portal";
  var ANNOUNCE_AT = [120, 60, 30, 10];

  function init() {
    var data = document.body && document.body.dataset;
    if (!data) {
      return;
    }
    var idleSeconds = parseInt(data.sessionIdleSeconds, 10);
    if (!(idleSeconds > 0)) {
      return;
    }
    var warnSeconds = parseInt(data.sessionWarnSeconds, 10);
    if (!(warnSeconds >= 0)) {
      warnSeconds = 120;
    }
    warnSeconds = Math.min(warnSeconds, idleSeconds);
    var endUrl = data.sessionEndUrl || "/session-slut";
    var loggedOutUrl = data.sessionLoggedOutUrl || "/utloggad";
    var tag = data.sessionTag || "";

    var idleMs = idleSeconds * 1000;
    var warnMs = warnSeconds * 1000;
    var dialog = document.getElementById("session-dialog");
    var continueButton = document.getElementById("session-continue");
    var continueForm = continueButton ? continueButton.form : null;
    var countdown = document.getElementById("session-countdown");
    var announcer = document.getElementById("session-announce");
    // The last moment (seconds left) that was announced in this warning.
    var announced = null;
    var channel = null;
    try {
      channel = typeof window.BroadcastChannel === "function" ? new window.BroadcastChannel(CHANNEL_NAME) : null;
    } catch (e) {
      channel = null;
    }

    var lastActivity = 0;
    var checkTimer = null;
    var countdownTimer = null;
    var returnFocusTo = null;
    var ended = false;

    if (countdown) {
      // The dialog's heading announces the warning; a ticking live region
      // would talk every second.
      countdown.setAttribute("aria-live", "off");
    }

    function now() {
      return new Date().getTime();
    }

    function readSharedActivity() {
      try {
        var value = parseInt(window.localStorage.getItem(STORAGE_KEY), 10);
        return value > 0 ? value : 0;
      } catch (e) {
        return 0;
      }
    }

    function writeSharedActivity(time) {
      try {
        window.localStorage.setItem(STORAGE_KEY, String(time));
      } catch (e) {
        // Storage may be unavailable (privacy mode); one tab still works.
      }
    }

    function deadline() {
      var latest = Math.max(lastActivity, readSharedActivity());
      // A value from the future (clock change) must not keep a session alive.
      if (latest > now()) {
        latest = lastActivity;
      }
      return latest + idleMs;
    }

    function formatLeft(ms) {
      var total = Math.max(0, Math.ceil(ms / 1000));
      var minutes = Math.floor(total / 60);
      var seconds = total % 60;
      return minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    }

    // The announcement moment that `seconds` left has reached: the smallest of
    // ANNOUNCE_AT that is not below it, or null above them all.
    function momentOf(seconds) {
      var moment = null;
      for (var i = 0; i < ANNOUNCE_AT.length; i++) {
        if (seconds <= ANNOUNCE_AT[i]) {
          moment = ANNOUNCE_AT[i];
        }
      }
      return moment;
    }

    function announce(ms, opening) {
      if (!announcer) {
        return;
      }
      var moment = momentOf(Math.max(0, Math.ceil(ms / 1000)));
      if (opening) {
        // The dialog's description already says the time left when it opens.
        announced = moment === null ? Infinity : moment;
        return;
      }
      if (moment === null || moment >= announced) {
        return;
      }
      announced = moment;
      var text = announcer.getAttribute("data-announce-" + moment);
      if (text) {
        announcer.textContent = text;
      }
    }

    function isDialogOpen() {
      return !!(dialog && (dialog.open || dialog.hasAttribute("open")));
    }

    function openDialog() {
      if (!dialog || isDialogOpen()) {
        return;
      }
      returnFocusTo = document.activeElement;
      if (countdown) {
        // Up to date before the dialog, and its description, is read out.
        countdown.textContent = formatLeft(deadline() - now());
      }
      announce(deadline() - now(), true);
      if (typeof dialog.showModal === "function") {
        dialog.showModal();
      } else {
        dialog.setAttribute("open", "");
      }
      if (continueButton) {
        continueButton.focus();
      }
    }

    function closeDialog() {
      if (!isDialogOpen()) {
        return;
      }
      announced = null;
      if (announcer) {
        announcer.textContent = "";
      }
      if (typeof dialog.close === "function") {
        dialog.close();
      } else {
        dialog.removeAttribute("open");
      }
      if (returnFocusTo && returnFocusTo.focus && document.body.contains(returnFocusTo)) {
        returnFocusTo.focus();
      }
      returnFocusTo = null;
    }

    function stopCountdown() {
      if (countdownTimer !== null) {
        clearTimeout(countdownTimer);
        countdownTimer = null;
      }
    }

    function tickCountdown() {
      countdownTimer = null;
      var left = deadline() - now();
      if (left <= 0) {
        check();
        return;
      }
      if (left > warnMs) {
        // Another tab was active meanwhile.
        closeDialog();
        schedule();
        return;
      }
      if (countdown) {
        var text = formatLeft(left);
        if (countdown.textContent !== text) {
          countdown.textContent = text;
        }
      }
      announce(left, false);
      // Wake up just after the next whole second changes.
      countdownTimer = setTimeout(tickCountdown, (left % 1000) + 20);
    }

    // Leave this page for `url`; nothing more happens here.
    function leave(url) {
      if (ended) {
        return;
      }
      ended = true;
      if (checkTimer !== null) {
        clearTimeout(checkTimer);
        checkTimer = null;
      }
      stopCountdown();
      window.location.assign(url);
    }

    // Tell the other tabs of this login that it has ended ("logout" or "timeout").
    function tellOtherTabs(reason) {
      if (!tag) {
        return;
      }
      var message = {type: "ended", tag: tag, reason: reason, at: now()};
      if (channel) {
        try {
          channel.postMessage(message);
        } catch (e) {
          // Fall through to storage.
        }
      }
      try {
        window.localStorage.setItem(ENDED_KEY, JSON.stringify(message));
      } catch (e) {
        // No storage: the other tabs learn it at their next request.
      }
    }

    function heardEnded(message) {
      if (!message || message.type !== "ended" || !tag || message.tag !== tag) {
        return;  // another login's tabs (earlier or later) are not ours
      }
      leave(message.reason === "timeout" ? endUrl : loggedOutUrl);
    }

    function expire() {
      if (ended) {
        return;
      }
      tellOtherTabs("timeout");
      leave(endUrl);
    }

    function check() {
      // Always one pending check at most, whoever called.
      if (checkTimer !== null) {
        clearTimeout(checkTimer);
        checkTimer = null;
      }
      if (ended) {
        return;
      }
      var left = deadline() - now();
      if (left <= 0) {
        expire();
      } else if (left <= warnMs) {
        openDialog();
        if (countdownTimer === null) {
          tickCountdown();
        }
        // Backstop in case the countdown timer is throttled.
        checkTimer = setTimeout(check, left);
      } else {
        stopCountdown();
        closeDialog();
        checkTimer = setTimeout(check, left - warnMs);
      }
    }

    function schedule() {
      check();
    }

    function reset() {
      if (ended) {
        return;
      }
      lastActivity = now();
      writeSharedActivity(lastActivity);
      stopCountdown();
      closeDialog();
      schedule();
    }

    function continueSession() {
      if (!continueButton || !continueForm) {
        return;
      }
      if (typeof continueForm.requestSubmit === "function") {
        continueForm.requestSubmit(continueButton);
      } else {
        continueButton.click();
      }
    }

    document.addEventListener("htmx:afterRequest", function (event) {
      var detail = event.detail || {};
      var elt = detail.elt || event.target;
      var fromContinue = !!(continueForm && elt && (elt === continueForm || continueForm.contains(elt)));
      var xhr = detail.xhr;
      if (xhr && xhr.getResponseHeader && xhr.getResponseHeader("HX-Redirect") !== null) {
        return;  // htmx goes there itself (the server's answer to a dead session)
      }
      if (detail.successful) {
        reset();
      } else if (fromContinue && xhr && xhr.status >= 300) {
        // "Ja, fortsätt" was refused: the session is gone on the server. Never
        // leave the dialog counting as if it had worked.
        expire();
      }
    });

    if (channel) {
      channel.onmessage = function (event) {
        heardEnded(event.data);
      };
    }

    if (dialog) {
      // Escape closes the dialog; treat it as "I am still here".
      dialog.addEventListener("cancel", function () {
        continueSession();
      });
    }

    window.addEventListener("storage", function (event) {
      if (event.key === STORAGE_KEY) {
        schedule();
      } else if (event.key === ENDED_KEY && event.newValue) {
        var message = null;
        try {
          message = JSON.parse(event.newValue);
        } catch (e) {
          message = null;
        }
        heardEnded(message);
      }
    });

    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") {
        schedule();
      }
    });

    // A personal page restored from the back-forward cache may be stale or
    // belong to a session that has ended: fetch it again.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        window.location.reload();
      }
    });

    reset();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
