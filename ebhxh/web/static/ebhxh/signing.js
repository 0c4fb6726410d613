// Signing a declaration with the local signing agent (`ebhxh signer`, docs/signing-agent.md).
// The page never sees the PIN: the person confirms and types it in the agent's own window.
(function () {
  "use strict";
  var box = document.getElementById("agent");
  if (!box) return;
  var texts = JSON.parse(document.getElementById("sign-texts").textContent);
  var agent = box.dataset.agentUrl;
  var status = document.getElementById("agent-status");
  var errorBox = document.getElementById("agent-error");
  var chooser = document.getElementById("certificate-choice");
  var button = document.getElementById("sign-button");
  var certificates = [];

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function fail(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    button.disabled = false;
  }
  function agentMessage(body) {
    var vi = document.documentElement.lang !== "en";
    return (vi ? body.message_vi : body.message_en) + " [" + body.code + "]";
  }
  async function json(response) {
    var body = {};
    try { body = await response.json(); } catch (e) { /* not JSON */ }
    return body;
  }
  async function post(url, payload) {
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(payload),
    });
    var body = await json(response);
    if (!response.ok) throw new Error((body.message || response.statusText) + (body.code && body.message && body.message.indexOf(body.code) < 0 ? " [" + body.code + "]" : ""));
    return body;
  }

  async function findAgent() {
    try {
      var info = await fetch(agent + "/v1/info").then(function (r) { return r.json(); });
      if (info.agent !== "ebhxh-signer" || info.version !== 1) throw new Error("agent");
      var response = await fetch(agent + "/v1/certificates");
      var body = await json(response);
      if (!response.ok) { status.textContent = agentMessage(body); return; }
      certificates = body.certificates || [];
    } catch (e) {
      status.textContent = texts.noAgent;
      return;
    }
    if (!certificates.length) { status.textContent = texts.noCert; return; }
    certificates.forEach(function (c, i) {
      var option = document.createElement("option");
      option.value = String(i);
      option.textContent = c.subject + " — " + c.not_after.slice(0, 10);
      chooser.appendChild(option);
    });
    status.textContent = texts.found;
    document.getElementById("agent-certificates").hidden = false;
  }

  button && button.addEventListener("click", async function () {
    errorBox.hidden = true;
    button.disabled = true;
    var cert = certificates[Number(chooser.value)];
    try {
      // The server answers with a document to sign ({document, container?, reference?, id?}) or
      // with where to go ({next}). A dossier has several: each form, then the envelope; each is
      // its own agent call (one confirmation and PIN each), posted back with its id.
      var step = await post(box.dataset.certificateUrl, { certificate: cert.certificate });
      var done = 0;
      while (step.document) {
        status.textContent = done && texts.next ? texts.next.replace("{done}", String(done)) : texts.waiting;
        var response = await fetch(agent + "/v1/sign", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            document: step.document,
            certificate: cert.id,
            container: step.container || box.dataset.container,
            reference: step.reference || box.dataset.reference,
          }),
        });
        var body = await json(response);
        if (!response.ok) { status.textContent = ""; fail(agentMessage(body)); return; }
        done += 1;
        status.textContent = texts.sending;
        var payload = { signed: body.signed };
        if (step.id) payload.id = step.id;
        step = await post(box.dataset.signedUrl, payload);
      }
      window.location.assign(step.next);
    } catch (e) {
      status.textContent = "";
      fail(e.message);
    }
  });

  findAgent();
})();
