// The chat page's streaming: POST the message to the stream API, read the server-sent events with
// fetch and a reader, render each delta as it arrives. Model output is untrusted: while streaming it is
// rendered by markdown.js, which only builds allowed elements and text nodes; when the answer is done
// the server's sanitized Markdown replaces it. The conversation list and the usage meter are fetched
// again from the server when the stream starts (the message is stored and counted then) and ends.
// Without JavaScript the same form posts to a plain action and the page comes back with the answer.
const form = document.getElementById("chat-form");

if (form) {
  // The same module the page loads with its own <script> (one instance, by its hashed URL).
  const { renderMarkdown } = await import(form.dataset.markdownUrl);
  const textarea = form.querySelector("textarea[name=message]");
  const conversationInput = form.querySelector("input[name=conversation_id]");
  const sendButton = form.querySelector("[data-send]");
  const stopButton = form.querySelector("[data-stop]");
  const statusLine = form.querySelector("[data-status]");
  let controller = null;

  const thread = () => document.querySelector("[data-thread]");
  const scrollDown = () => { const t = thread(); if (t) t.scrollTop = t.scrollHeight; };
  const setStatus = (text) => { statusLine.textContent = text; statusLine.hidden = !text; };
  const setBusy = (busy) => {
    sendButton.disabled = busy;
    stopButton.hidden = !busy;
    form.classList.toggle("is-streaming", busy);
    // Screen readers announce the answer once it is complete, not every word of it.
    thread()?.setAttribute("aria-busy", String(busy));
  };

  function bubble(role, text) {
    const article = document.createElement("article");
    article.className = `msg msg-${role}`;
    const body = document.createElement("div");
    body.className = role === "user" ? "msg-body" : "msg-body prose";
    body.textContent = text;
    article.append(body);
    thread().querySelector(".chat-empty")?.remove();
    thread().append(article);
    scrollDown();
    return article;
  }

  function mark(article, text, level = "warning") {
    const badge = document.createElement("span");
    badge.className = `badge badge-${level}`;
    badge.textContent = text;
    article.append(badge);
    article.querySelector(".msg-body").classList.remove("streaming");
  }

  // Re-render the thread (or, mid-stream, only the conversation list), the list and the usage meter
  // from the server.
  function refresh(target = "#chat-thread") {
    const id = conversationInput.value;
    if (id && window.htmx) {
      htmx.ajax("GET", `${form.dataset.conversationUrl}${id}/`, { target, swap: "outerHTML" });
    }
  }

  // Server-sent events: blocks separated by a blank line, each with `event:` and `data:` lines.
  function* parseEvents(buffer) {
    for (const block of buffer) {
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) yield { name, data: JSON.parse(data.join("\n")) };
    }
  }

  async function send(text) {
    const userBubble = bubble("user", text);
    const answer = bubble("assistant", "");
    const body = answer.querySelector(".msg-body");
    body.classList.add("streaming");
    let said = "";
    let drawing = 0;
    const draw = () => { drawing = 0; renderMarkdown(body, said, true); scrollDown(); };
    textarea.value = "";
    setStatus("");
    setBusy(true);
    controller = new AbortController();
    let ended = false;
    try {
      const response = await fetch(form.dataset.streamUrl, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "Accept": "text/event-stream",
          "X-CSRFToken": form.querySelector("input[name=csrfmiddlewaretoken]").value,
        },
        body: JSON.stringify({ message: text, conversation_id: Number(conversationInput.value) || null }),
        signal: controller.signal,
      });
      if (!response.ok) {
        // Refused before streaming (quota, validation, switched off): nothing was stored.
        const problem = await response.json().catch(() => ({}));
        const detail = typeof problem.detail === "string" ? problem.detail
          : Object.values(problem).flat().join(" ") || `The request failed (${response.status}).`;
        userBubble.remove();
        answer.remove();
        textarea.value = text;
        setStatus(detail);
        ended = true;
        return;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let pending = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        pending += value.replaceAll("\r\n", "\n");
        const blocks = pending.split("\n\n");
        pending = blocks.pop();
        for (const event of parseEvents(blocks)) {
          if (event.name === "start") {
            conversationInput.value = event.data.conversation_id;
            history.replaceState(null, "", `${form.dataset.conversationUrl}${event.data.conversation_id}/`);
            refresh("#conversation-list");
          } else if (event.name === "delta") {
            said += event.data.text;
            drawing ||= setTimeout(draw, 40);  // one render per 40 ms, however many deltas (not rAF: it pauses where nothing paints)
          } else if (event.name === "error") {
            ended = true;
            mark(answer, event.data.detail, "danger");
            refresh();
          } else if (event.name === "done") {
            ended = true;
            refresh();
          }
        }
      }
      if (!ended) mark(answer, "The connection was interrupted.", "danger");
    } catch (error) {
      if (error.name === "AbortError") {
        mark(answer, "Stopped");
        // The server keeps what was said so far; show its version once it has saved it.
        setTimeout(refresh, 600);
      } else if (!ended) {
        mark(answer, "Could not reach the server. Check your connection and try again.", "danger");
      }
    } finally {
      if (drawing) { clearTimeout(drawing); draw(); }
      controller = null;
      setBusy(false);
      textarea.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = textarea.value.trim();
    if (controller) return;
    if (!text) { setStatus("Write a message first."); return; }
    send(text);
  });
  stopButton.addEventListener("click", () => controller?.abort());
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  const hint = form.querySelector("[data-hint]");
  if (hint) hint.hidden = false;  // the keyboard shortcut is ours: only with JS
  document.addEventListener("htmx:afterSettle", scrollDown);
  scrollDown();
}
