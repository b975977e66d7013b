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
        text.textContent = `${status.rows_done} of ${status.rows} lines done (${status.status}).`;
      }
    } catch {
      // A dropped connection: try again at the next tick.
    }
    window.setTimeout(poll, 2000);
  };
  window.setTimeout(poll, 1000);
}
