// Switchyard dashboard: the usage charts (Chart.js) and the playground's streamed chat.
// No inline script anywhere (the pages' Content-Security-Policy forbids it): data comes in
// <script type="application/json"> blocks, which the browser never runs.
(function () {
  "use strict";

  function csrf() {
    return document.querySelector('meta[name="csrf-token"]').content;
  }

  function drawCharts() {
    const source = document.getElementById("usage-data");
    if (!source || typeof Chart === "undefined") return;
    const charts = JSON.parse(source.textContent);
    for (const spec of charts) {
      const canvas = document.getElementById(spec.id);
      if (!canvas) continue;
      new Chart(canvas, {
        type: spec.type,
        data: {
          labels: spec.labels,
          datasets: spec.series.map((s) => ({ label: s.label, data: s.data })),
        },
        options: { animation: false, responsive: true, plugins: { legend: { display: spec.series.length > 1 } } },
      });
    }
  }

  function playground() {
    const form = document.getElementById("playground");
    if (!form) return;
    const output = document.getElementById("output");
    const status = document.getElementById("status");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      output.textContent = "";
      status.textContent = "streaming…";
      const body = JSON.stringify({
        model: form.elements.model.value,
        prompt: form.elements.prompt.value,
      });
      let chunks = 0;
      try {
        const reply = await fetch("/ui/playground/stream", {
          method: "POST",
          headers: { "content-type": "application/json", "x-csrf-token": csrf() },
          body: body,
          credentials: "same-origin",
        });
        if (!reply.ok || !reply.body) {
          status.textContent = "refused: HTTP " + reply.status + " " + (await reply.text());
          return;
        }
        const reader = reply.body.getReader();
        const decoder = new TextDecoder();
        let buffered = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffered += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffered.indexOf("\n\n")) >= 0) {
            const frame = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            let name = "message";
            let data = "";
            for (const line of frame.split("\n")) {
              if (line.startsWith("event: ")) name = line.slice(7);
              else if (line.startsWith("data: ")) data += line.slice(6);
            }
            const payload = JSON.parse(data || "{}");
            if (name === "chunk") {
              chunks += 1;
              output.textContent += payload.text;
              output.dataset.chunks = String(chunks);
            } else if (name === "error") {
              status.textContent = "error: " + payload.message;
              return;
            } else if (name === "done") {
              status.textContent = "done: " + chunks + " chunks, served by " + (payload.served_by || "?") +
                (payload.cost_usd != null ? ", $" + payload.cost_usd : "");
              return;
            }
          }
        }
        status.textContent = "the stream ended early";
      } catch (error) {
        status.textContent = "error: " + error;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    drawCharts();
    playground();
  });
})();
