// The acquirer's card element. The card number and CVC go from here to this origin's
// POST /v1/tokens only; the parent page receives the token, brand, last four digits
// and expiry, by postMessage to the one origin it was framed for.

const parentOrigin = document.body.dataset.parentOrigin;
const errorBox = document.getElementById("card-error");

function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return `elem_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function read() {
  const number = document.getElementById("number").value.replace(/[\s-]/g, "");
  const exp = document.getElementById("exp").value.replace(/\s/g, "");
  const cvc = document.getElementById("cvc").value.trim();
  const match = /^(\d{1,2})\/(\d{2}|\d{4})$/.exec(exp);
  if (!/^\d{12,19}$/.test(number)) return { error: "Enter a valid card number." };
  if (!match) return { error: "Enter the expiry as MM/YY." };
  if (!/^\d{3,4}$/.test(cvc)) return { error: "Enter the 3 or 4 digit CVC." };
  const month = Number(match[1]);
  const year = match[2].length === 2 ? 2000 + Number(match[2]) : Number(match[2]);
  if (month < 1 || month > 12) return { error: "Enter the expiry as MM/YY." };
  return { card: { number, exp_month: month, exp_year: year, cvc } };
}

function answer(message) {
  window.parent.postMessage(message, parentOrigin);
}

async function tokenize() {
  const { card, error } = read();
  if (error) {
    errorBox.textContent = error;
    answer({ type: "error", message: error });
    return;
  }
  errorBox.textContent = "";
  try {
    const response = await fetch("/v1/tokens", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": newKey() },
      body: JSON.stringify(card),
    });
    const data = await response.json();
    if (!response.ok) {
      const message = (data.error && data.error.message) || "The card was not accepted.";
      errorBox.textContent = message;
      answer({ type: "error", message });
      return;
    }
    answer({
      type: "token",
      token: data.token,
      brand: data.brand,
      last4: data.last4,
      exp_month: data.exp_month,
      exp_year: data.exp_year,
    });
  } catch {
    answer({ type: "error", message: "The card could not be checked. Try again." });
  }
}

window.addEventListener("message", (event) => {
  if (event.origin !== parentOrigin || event.source !== window.parent) return;
  if (event.data && event.data.type === "tokenize") tokenize();
});
answer({ type: "ready" });
