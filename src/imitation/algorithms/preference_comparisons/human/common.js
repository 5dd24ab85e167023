// What every human page's script shares; webapp inlines it at the start of
// each page's script, which defines show(status) and the array `buttons`.
const token = new URLSearchParams(window.location.search).get("token") || "";
const q = "?token=" + encodeURIComponent(token);
const progress = document.getElementById("progress");
const message = document.getElementById("message");
let busy = false;      // a request is being sent
let shown = null;      // id of the item (pair, state) on screen
let epoch = 0;         // bumped by every request: older status replies are stale

async function refresh() {
  const asked = epoch;
  try {
    const response = await fetch("/api/next" + q, {cache: "no-store"});
    if (!response.ok) { message.textContent = "Server says: " + response.status; return; }
    const status = await response.json();
    if (asked === epoch) show(status);  // Else a request was sent meanwhile.
  } catch (err) {
    message.textContent = "Cannot reach the server (is the run still going?)";
  }
}

async function post(path, body) {
  // A POST on a keep-alive connection the server is just closing fails
  // without reaching it, and browsers do not retry POSTs: retry here. If a
  // retried request had been saved after all, the server says 409.
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(path + q, {
        method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify(body),
      });
    } catch (err) {
      if (attempt >= 3) throw err;
      await new Promise(resolve => setTimeout(resolve, 200 * attempt));
    }
  }
}

// POST `body` to `path` with the buttons disabled, then fetch the status
// again. A refused or lost request is reported after `failed`; `answered`
// is called with any reply.
async function send(path, body, failed, answered) {
  busy = true;
  epoch += 1;
  buttons.forEach(b => b.disabled = true);
  try {
    const response = await post(path, body);
    if (!response.ok && response.status !== 409) {
      const data = await response.json().catch(() => ({}));
      message.textContent = failed + ": " + (data.error || response.status);
    }
    await answered(response);
  } catch (err) {
    message.textContent = failed + ": cannot reach the server.";
  } finally {
    busy = false;
    await refresh();
  }
}

// Show the status now, then every `ms` milliseconds while no request is sent.
function poll(ms) {
  refresh();
  setInterval(() => { if (!busy) refresh(); }, ms);
}

// A button showing `text` and, in a <kbd>, the `key` that presses it too.
function makeButton(id, text, key, onClick) {
  const button = document.createElement("button");
  button.id = id;
  button.append(text + " ");
  const kbd = document.createElement("kbd");
  kbd.textContent = key;
  button.append(kbd);
  button.addEventListener("click", onClick);
  return button;
}

// Show `item` in `box` (whose data attribute `idKey` holds its id), filled by
// `fill(item)` when it is new, with the buttons enabled. Without an item, hide
// the box, disable the buttons and say `idle`.
function showItem(box, idKey, item, fill, idle) {
  if (!item) {
    shown = null;
    box.classList.add("hidden");
    box.dataset[idKey] = "";
    buttons.forEach(b => b.disabled = true);
    message.textContent = idle;
    return;
  }
  if (item.id !== shown) {
    shown = item.id;
    fill(item);
    box.dataset[idKey] = String(item.id);
    box.classList.remove("hidden");
    message.textContent = "";
  }
  buttons.forEach(b => b.disabled = false);
}
