// The GOV.UK timeout warning for signed-in pages (docs/decisions/0027).
//
// base.html renders a <dialog> with how many seconds the session has left and
// how long before the end to warn. Before opening, the warning asks the server
// (GET data-status-url), as another tab may have kept the session going. "Stay
// signed in" (or Escape, as in the GOV.UK pattern) posts to the same address,
// which restarts the session. When the countdown ends, the form posts to sign
// out with reason=timeout, and the server shows the "signed out" page.
//
// Loaded as a file from the service's own static files: the Content Security
// Policy allows no inline script without its nonce, and none is needed.

const dialog = document.getElementById("app-timeout-warning");

if (dialog && typeof dialog.showModal === "function") {
  const warnBefore = Number(dialog.dataset.warnBefore) * 1000;
  const statusUrl = dialog.dataset.statusUrl;
  const form = dialog.querySelector("[data-timeout-form]");
  const reason = dialog.querySelector("[data-timeout-reason]");
  const countdown = dialog.querySelector("[data-countdown]");
  const announce = dialog.querySelector("[data-countdown-announce]");
  const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  let deadline = Date.now() + Number(dialog.dataset.expiresIn) * 1000;
  let warnTimer = null;
  let tickTimer = null;
  let lastAnnounced = "";
  let returnFocus = null;

  // The words come from the page, in its language (base.html's data-* attributes,
  // from the catalogue); English if an attribute is missing.
  const text = (name, fallback) => dialog.dataset[name] || fallback;
  const count = (n, one, other) => (n === 1 ? one : other.replace("{count}", String(n)));
  const words = (ms) => {
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60);
      return count(minutes, text("oneMinute", "1 minute"), text("minutes", "{count} minutes"));
    }
    return count(seconds, text("oneSecond", "1 second"), text("seconds", "{count} seconds"));
  };

  const signOut = () => {
    reason.value = "timeout";
    form.submit();
  };

  const tick = () => {
    const left = deadline - Date.now();
    if (left <= 1000) {
      signOut();
      return;
    }
    const shown = words(left);
    countdown.textContent = shown;
    // A screen reader hears the time when the minute changes and every 20
    // seconds in the last minute, not every second.
    const seconds = Math.ceil(left / 1000);
    const said = seconds >= 60 ? shown : words(Math.ceil(seconds / 20) * 20000);
    if (said !== lastAnnounced) {
      lastAnnounced = said;
      announce.textContent = text("announce", "We will sign you out in {time}.").replace("{time}", said);
    }
  };

  const schedule = () => {
    window.clearTimeout(warnTimer);
    warnTimer = window.setTimeout(check, Math.max(0, deadline - warnBefore - Date.now()));
  };

  const ask = async (method) => {
    const response = await fetch(statusUrl, {
      method,
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
    });
    const body = await response.json();
    return Number(body.expires_in) * 1000;
  };

  const open = () => {
    if (dialog.open) return;
    returnFocus = document.activeElement;
    lastAnnounced = "";
    tick();
    dialog.showModal();
    window.clearInterval(tickTimer);
    tickTimer = window.setInterval(tick, 1000);
  };

  const close = () => {
    window.clearInterval(tickTimer);
    if (dialog.open) dialog.close();
    if (returnFocus && typeof returnFocus.focus === "function") returnFocus.focus();
  };

  async function check() {
    try {
      const left = await ask("GET");
      deadline = Date.now() + left;
    } catch {
      // The server did not answer: count down from what the page said.
    }
    if (deadline - Date.now() > warnBefore + 1000) {
      close();
      schedule();
    } else {
      open();
    }
  }

  const stay = async () => {
    try {
      const left = await ask("POST");
      if (left <= 0) {
        signOut();
        return;
      }
      deadline = Date.now() + left;
      close();
      schedule();
    } catch {
      signOut();
    }
  };

  dialog.querySelector("[data-stay-signed-in]").addEventListener("click", stay);
  dialog.querySelector("[data-sign-out]").addEventListener("click", () => {
    reason.value = "";
  });
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    stay();
  });
  schedule();
}
