// The terminal page: lists the caller's sandboxes (through wsproxy's pass-through to the REST
// API), asks for a terminal token for the one chosen and opens its terminal over a WebSocket.
// Binary messages carry terminal bytes; a text message {type:"resize",cols,rows} a new size.
/* global Terminal, FitAddon */
;(() => {
  const keyInput = document.getElementById("key")
  const list = document.getElementById("sandboxes")
  const status = document.getElementById("status")
  const term = new Terminal({ cursorBlink: true, fontFamily: "DejaVu Sans Mono, monospace", fontSize: 14 })
  const fit = new FitAddon.FitAddon()
  term.loadAddon(fit)
  term.open(document.getElementById("terminal"))
  fit.fit()
  const encoder = new TextEncoder()
  let socket

  keyInput.value = sessionStorage.getItem("agent-sandbox-key") ?? ""
  const say = (text) => {
    status.textContent = text
  }
  const api = async (method, path) => {
    const response = await fetch(path, { method, headers: { "x-api-key": keyInput.value } })
    const body = await response.json().catch(() => ({}))
    if (!response.ok) throw new Error(body.message ?? `${response.status} ${response.statusText}`)
    return body
  }

  const terminalBox = document.getElementById("terminal")
  const sendSize = () => {
    terminalBox.dataset.cols = String(term.cols)
    terminalBox.dataset.rows = String(term.rows)
    if (socket !== undefined && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }))
    }
  }

  const open = async (id) => {
    if (socket !== undefined) socket.close(1000, "another terminal opened")
    say(`opening a terminal in ${id}...`)
    const grant = await api("POST", `/api/sandboxes/${encodeURIComponent(id)}/terminal-token`)
    const scheme = location.protocol === "https:" ? "wss:" : "ws:"
    // The shell starts at the terminal's size; later sizes follow as resize messages.
    const query = `token=${encodeURIComponent(grant.token)}&cols=${term.cols}&rows=${term.rows}`
    const ws = new WebSocket(`${scheme}//${location.host}${grant.path}?${query}`)
    ws.binaryType = "arraybuffer"
    socket = ws
    term.reset()
    ws.onopen = () => {
      say(`terminal: ${id}`)
      document.body.dataset.terminal = "open"
      sendSize()
      term.focus()
    }
    ws.onmessage = (event) => {
      if (event.data instanceof ArrayBuffer) term.write(new Uint8Array(event.data))
    }
    ws.onclose = (event) => {
      if (socket === ws) socket = undefined
      document.body.dataset.terminal = "closed"
      say(`terminal closed (${event.code}${event.reason === "" ? "" : `: ${event.reason}`})`)
    }
  }

  term.onData((data) => {
    if (socket !== undefined && socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data))
  })
  term.onResize(sendSize)
  window.addEventListener("resize", () => fit.fit())

  document.getElementById("list").addEventListener("click", async () => {
    sessionStorage.setItem("agent-sandbox-key", keyInput.value)
    try {
      const page = await api("GET", "/api/sandboxes")
      list.replaceChildren(
        ...page.items.map((sandbox) => {
          const item = document.createElement("li")
          const button = document.createElement("button")
          button.type = "button"
          button.textContent = `${sandbox.id} (${sandbox.pool})`
          button.dataset.sandbox = sandbox.id
          button.addEventListener("click", () => open(sandbox.id).catch((error) => say(error.message)))
          item.append(button)
          return item
        }),
      )
      say(page.items.length === 0 ? "no sandboxes" : `${page.items.length} sandboxes`)
    } catch (error) {
      say(error.message)
    }
  })
})()
