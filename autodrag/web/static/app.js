// AutoDrag web page: draws the server's state on a canvas and sends the user's actions over one WebSocket.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const canvas = $("canvas"), ctx = canvas.getContext("2d");
  const stats = window.autodrag = { state: null, session: null, framesDrawn: 0, errors: [], messages: 0 };
  let ws = null, image = null, maskImage = null, stroke = null;

  function send(action, args = {}) {
    if (!ws || ws.readyState !== WebSocket.OPEN) { showError("not connected: reload the page"); return; }
    $("error").hidden = true;
    ws.send(JSON.stringify({ action, ...args }));
  }
  stats.send = send;

  function showError(text) {
    stats.errors.push(text);
    $("error").textContent = text;
    $("error").hidden = false;
  }

  function connect() {
    const params = new URLSearchParams();
    const previous = sessionStorage.getItem("autodrag-session");
    if (previous) params.set("session", previous);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/ws?${params}`);
    ws.onmessage = (event) => {
      stats.messages++;
      const msg = JSON.parse(event.data);
      if (msg.type === "hello") hello(msg);
      else if (msg.type === "state") update(msg);
      else if (msg.type === "error") showError(msg.message);
    };
    ws.onclose = (event) => {
      $("status").textContent = `disconnected${event.reason ? ": " + event.reason : ""} (reload the page)`;
      if (event.code === 4000) sessionStorage.removeItem("autodrag-session");
    };
  }

  function hello(msg) {
    stats.session = msg.session;
    sessionStorage.setItem("autodrag-session", msg.session);
    const select = $("model");
    select.innerHTML = "";
    for (const name of msg.models) select.add(new Option(name === "bundled" ? "bundled model" : name, name));
    const presets = $("presets");
    presets.innerHTML = "";
    for (const p of msg.presets) {
      const b = document.createElement("button");
      b.id = `preset-${p.name}`; b.textContent = p.label; b.dataset.preset = p.name;
      b.onclick = () => send("preset", { name: p.name });
      presets.appendChild(b);
    }
    $("strength").min = msg.strength_range[0]; $("strength").max = msg.strength_range[1];
  }

  function setValue(id, value) { const el = $(id); if (document.activeElement !== el && value !== null) el.value = value; }

  function update(s) {
    stats.state = s;
    if (s.image) {
      const img = new Image();
      img.onload = () => { image = img; stats.framesDrawn++; stats.lastImageVersion = s.image_version; draw(); };
      img.src = s.image;
    }
    if ("mask" in s) {
      if (s.mask) { const m = new Image(); m.onload = () => { maskImage = m; draw(); }; m.src = s.mask; }
      else maskImage = null;
    }
    if (s.errors) s.errors.forEach(showError);
    $("status").textContent = s.status;
    $("step").textContent = `step ${s.step}`;
    $("distance").textContent = s.distances.length
      ? `max distance ${Math.max(...s.distances).toFixed(1)} px` : "no points";
    $("points-count").textContent = `${s.handles.length} handles (red), ${s.targets.length} targets (blue)`;
    $("mask-info").textContent = s.mask_movable === null ? "everything movable" : `${Math.round(100 * s.mask_movable)}% movable`;
    if (s.loaded) {
      setValue("seed", s.seed); setValue("lr", s.lr ?? ""); setValue("max-steps", s.max_steps);
      setValue("mask-weight", s.mask_weight); setValue("psi", s.psi); $("psi-value").value = Number(s.psi).toFixed(2);
      $("w-plus").checked = s.w_plus; $("show-landmarks").checked = s.show_landmarks;
      setValue("strength", s.strength); $("strength-value").value = Number(s.strength).toFixed(2);
      if (s.model) $("model").value = s.model;
    }
    for (const b of document.querySelectorAll("#panels button")) {
      if (b.id === "stop") b.disabled = !s.busy;
      else if (b.id === "undo") b.disabled = !s.can_undo;
      else if (b.id === "redo") b.disabled = !s.can_redo;
      else if (b.id === "apply") b.disabled = s.busy || !s.pending_preset;
      else if (b.id === "dl-gif" || b.id === "dl-mp4") b.disabled = s.busy || s.frames < 2;
      else b.disabled = s.busy || (!s.loaded && b.id !== "load-model");
      b.classList.toggle("pending", b.dataset.preset !== undefined && b.dataset.preset === s.pending_preset);
    }
    draw();
  }

  function scale() { const r = (stats.state && stats.state.resolution) || 1; return canvas.width / r; }
  function toCanvas([row, col]) { const k = scale(); return [(col + 0.5) * k, (row + 0.5) * k]; }
  function toImage(event) {
    const rect = canvas.getBoundingClientRect(), r = stats.state.resolution;
    const clamp = (v) => Math.min(Math.max(v, 0), r - 1);
    return [clamp((event.clientY - rect.top) / rect.height * r - 0.5), clamp((event.clientX - rect.left) / rect.width * r - 0.5)];
  }

  function dot(xy, color, radius) {
    ctx.beginPath(); ctx.arc(xy[0], xy[1], radius, 0, 2 * Math.PI); ctx.fillStyle = color; ctx.fill();
  }

  function draw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const s = stats.state;
    if (image) ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    if (!s) return;
    if (maskImage && $("show-mask").checked) {
      ctx.imageSmoothingEnabled = false; ctx.drawImage(maskImage, 0, 0, canvas.width, canvas.height); ctx.imageSmoothingEnabled = true;
    }
    if (s.landmarks) for (const p of s.landmarks) dot(toCanvas(p), "#3ddc5a", 2.5);
    s.handles.forEach((h, i) => {
      const a = toCanvas(h);
      if (i < s.targets.length) {
        const b = toCanvas(s.targets[i]);
        ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.beginPath(); ctx.moveTo(...a); ctx.lineTo(...b); ctx.stroke();
        dot(b, "#3b7bff", 5);
      }
      dot(a, "#ff3b3b", 5);
    });
    if (stroke) {
      const k = scale() * Number($("radius").value);
      ctx.fillStyle = stroke.mode === "movable" ? "rgba(255,255,255,0.35)" : "rgba(0,0,0,0.45)";
      for (const p of stroke.points) { const c = toCanvas(p); ctx.beginPath(); ctx.arc(c[0], c[1], k, 0, 2 * Math.PI); ctx.fill(); }
    }
  }

  const mode = () => document.querySelector("input[name=mode]:checked").value;
  canvas.addEventListener("mousedown", (event) => {
    if (!stats.state || !stats.state.loaded || stats.state.busy) return;
    if (mode() === "off") { const [row, col] = toImage(event); send("click", { row, col }); return; }
    stroke = { mode: mode(), points: [toImage(event)] }; draw();
  });
  canvas.addEventListener("mousemove", (event) => { if (stroke) { stroke.points.push(toImage(event)); draw(); } });
  window.addEventListener("mouseup", () => {
    if (!stroke) return;
    send("paint", { mode: stroke.mode, points: stroke.points, radius: Number($("radius").value) });
    stroke = null;
  });

  const on = (id, type, fn) => $(id).addEventListener(type, fn);
  on("load-model", "click", () => send("load_model", { name: $("model").value }));
  on("seed", "change", () => send("set_latent", { seed: Number($("seed").value) }));
  on("psi", "input", () => { $("psi-value").value = Number($("psi").value).toFixed(2); });
  on("psi", "change", () => send("set_latent", { psi: Number($("psi").value) }));
  on("w-plus", "change", () => send("set_options", { w_plus: $("w-plus").checked }));
  on("lr", "change", () => send("set_options", { lr: Number($("lr").value) }));  // empty or 0 = automatic
  on("max-steps", "change", () => send("set_options", { max_steps: Number($("max-steps").value) }));
  on("mask-weight", "change", () => send("set_options", { mask_weight: Number($("mask-weight").value) }));
  on("reset-latent", "click", () => send("reset_latent"));
  for (const name of ["start", "stop", "undo", "redo", "apply"]) on(name, "click", () => send(name));
  on("reset-points", "click", () => send("reset_points"));
  on("reset-mask", "click", () => send("reset_mask"));
  on("show-mask", "change", draw);
  on("strength", "input", () => { $("strength-value").value = Number($("strength").value).toFixed(2); });
  on("strength", "change", () => send("strength", { value: Number($("strength").value) }));
  on("show-landmarks", "change", () => send("show_landmarks", { show: $("show-landmarks").checked }));

  async function download(kind) {
    $("error").hidden = true;
    const response = await fetch(`/api/download/${stats.session}/${kind}`);
    if (!response.ok) { showError(`${kind}: ${await response.text()}`); return; }
    const name = (response.headers.get("content-disposition") || "").match(/filename="?([^";]+)"?/);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(await response.blob());
    a.download = name ? name[1] : `autodrag.${kind}`;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }
  for (const kind of ["png", "latent", "gif", "mp4", "photo"]) on(`dl-${kind}`, "click", () => download(kind));

  async function upload(kind, input) {
    const file = input.files[0];
    if (!file) return;
    $("error").hidden = true;
    $("status").textContent = `uploading ${file.name}...`;
    const response = await fetch(`/api/upload/${stats.session}/${kind}?name=${encodeURIComponent(file.name)}`,
                                 { method: "POST", body: file });
    let reply;
    try { reply = await response.json(); } catch (e) { reply = { error: `${file.name}: the server answered ${response.status}` }; }
    if (reply.error) showError(reply.error); else $("status").textContent = reply.status;
    input.value = "";
  }
  on("upload-latent", "change", () => upload("latent", $("upload-latent")));
  on("upload-photo", "change", () => upload("photo", $("upload-photo")));

  connect();
})();
