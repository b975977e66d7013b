// Keeps a running batch's progress bar up to date (templates/records/batch.html).
// Without it the page still works: refreshing it shows how far the batch got.
// It polls the batch's small JSON status (same origin, so the CSP's connect-src
// 'self' allows it) and reloads the page once the batch has finished, to show
// the download.
const box = document.getElementById("batch-progress");
if (box) {
  const bar = document.getElementById("batch-progress-bar");
  const text = document.getElementById("batch-progress-text");
  const url = box.dataset.statusUrl;
  const poll = async () => {
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok) {
        const status = await response.json();
        if (status.status === "complete" || status.status === "failed") {
          window.location.reload();
          return;
        }
        bar.max = status.rows;
        bar.value = status.rows_done;
        bar.textContent = `${status.percent_done}%`;
        // The sentence and the status's word come from the page, in its language.
        const words = {
          queued: text.dataset.statusQueued,
          running: text.dataset.statusRunning,
        };
        const word = words[status.status] || status.status;
        text.textContent = text.dataset.template
          ? text.dataset.template
              .replace("{done}", status.rows_done)
              .replace("{total}", status.rows)
              .replace("{status}", word)
          : `${status.rows_done} of ${status.rows} lines done (${word}).`;
      }
    } catch {
      // A dropped connection: try again at the next tick.
    }
    window.setTimeout(poll, 2000);
  };
  window.setTimeout(poll, 1000);
}
