// The hosted checkout page of a payment link (chalicelib/api/checkout.py).
// The card is typed into the acquirer's card element (an iframe on the acquirer's own
// origin); this page receives only its token, brand, last four digits and expiry, by
// postMessage, and confirms with the link's client secret, read from the URL fragment.

const main = document.getElementById("checkout");
const POLL_MS = 1000;
// The customer's success: charged, or (a manual-capture link) authorized, which the
// merchant captures later. Either way the customer has paid and goes back to the merchant.
const PAID = ["SUCCESS", "AUTHORIZED"];

function secretFor(linkId) {
  const key = `checkout-secret:${linkId}`;
  const fromHash = decodeURIComponent(location.hash.slice(1));
  if (fromHash) {
    sessionStorage.setItem(key, fromHash);
    // Out of the address bar and the history: a shared screen or a copied URL keeps no secret.
    history.replaceState(null, "", location.pathname + location.search);
    return fromHash;
  }
  return sessionStorage.getItem(key) || "";
}

function say(text, kind = "") {
  const progress = document.getElementById("progress");
  progress.textContent = text;
  progress.className = kind;
}

async function call(linkId, secret, path, body) {
  const init = { headers: { Authorization: `Bearer ${secret}` }, cache: "no-store" };
  if (body !== undefined) {
    init.method = "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  // Relative to /pay/<link id>, so that it works under an API Gateway stage too.
  const response = await fetch(`${encodeURIComponent(linkId)}/${path}`, init);
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, data };
}

function cardElement(origin) {
  // Resolves with the element's answer to one "tokenize" request.
  const frame = document.getElementById("card-element");
  let pending = null;
  window.addEventListener("message", (event) => {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    const message = event.data || {};
    if (message.type === "token" || message.type === "error") {
      if (pending) pending(message);
      pending = null;
    }
  });
  if (frame.dataset.src) {
    frame.src = `${frame.dataset.src}?origin=${encodeURIComponent(location.origin)}`;
  }
  return () =>
    new Promise((resolve) => {
      pending = resolve;
      frame.contentWindow.postMessage({ type: "tokenize" }, origin);
    });
}

function start() {
  const linkId = main.dataset.linkId;
  const origin = main.dataset.elementOrigin;
  const secret = secretFor(linkId);
  const form = document.getElementById("pay-form");
  const button = document.getElementById("pay-button");
  if (!secret) {
    say("This link is incomplete: open the full link the merchant sent you.", "failed");
    button.disabled = true;
    return;
  }
  const tokenize = origin ? cardElement(origin) : null;
  const cardRadio = document.getElementById("method-card");
  const upiRadio = document.getElementById("method-upi");
  if (!origin) upiRadio.checked = true;
  const showMethod = () => {
    document.getElementById("card-panel").hidden = !cardRadio.checked || !origin;
    document.getElementById("upi-panel").hidden = !upiRadio.checked;
  };
  cardRadio.addEventListener("change", showMethod);
  upiRadio.addEventListener("change", showMethod);
  showMethod();

  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    for (;;) {
      const answer = await call(linkId, secret, "status").catch(() => null);
      const payment = answer && answer.ok ? answer.data.payment : null;
      if (payment && PAID.includes(payment.status)) {
        say("Payment succeeded. Thank you!", "succeeded");
        form.hidden = true;
        if (answer.data.redirect_url) {
          say("Payment succeeded. Thank you! Taking you back to the merchant…", "succeeded");
          setTimeout(() => location.assign(answer.data.redirect_url), 1500);
        }
        break;
      }
      if (payment && (payment.status === "FAILED" || payment.status === "CANCELLED")) {
        say(`Payment failed: ${payment.failure_message || payment.status}. You can try again.`, "failed");
        button.disabled = false;
        break;
      }
      if (payment) say("Processing your payment…");
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    polling = false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    let body;
    if (cardRadio.checked && tokenize) {
      say("Checking the card…");
      const answer = await tokenize();
      if (answer.type !== "token") {
        say(answer.message || "The card details are not valid.", "failed");
        button.disabled = false;
        return;
      }
      body = { token: answer.token };
    } else {
      const vpa = document.getElementById("vpa").value.trim();
      if (!vpa) {
        say("Enter your UPI ID (for example name@bank).", "failed");
        button.disabled = false;
        return;
      }
      body = { vpa };
    }
    const answer = await call(linkId, secret, "confirm", body).catch(() => null);
    if (!answer || !answer.ok) {
      const message = answer && answer.data.error ? answer.data.error.message : "Network error";
      say(`The payment could not be started: ${message}`, "failed");
      button.disabled = Boolean(answer && answer.status === 409); // paid, or under way
      return;
    }
    say("Processing your payment…");
    poll();
  });

  // A payment already under way (a reload) shows its progress.
  call(linkId, secret, "status").then((answer) => {
    const payment = answer.ok ? answer.data.payment : null;
    if (payment && ["PENDING", "PROCESSING", ...PAID].includes(payment.status)) {
      button.disabled = true;
      say("Processing your payment…");
      poll();
    } else if (answer.status === 401) {
      say("This link is incomplete: open the full link the merchant sent you.", "failed");
      button.disabled = true;
    }
  });
}

if (main && main.dataset.state === "active") start();
