// Papertrail web UI: a click on an answer's [n] scrolls to source card n and flashes it (instead of following the link);
// a number typed beyond a slider's range is shown as the value used.
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#source-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const card = document.getElementById(link.getAttribute("href").slice(1));
  if (!card) return;
  card.scrollIntoView({ behavior: "smooth", block: "center" });
  card.classList.remove("pt-flash");
  void card.offsetWidth;
  card.classList.add("pt-flash");
  const details = card.querySelector("details");
  if (details) details.open = true;
}, true);

// A number typed into a slider's box beyond its range shows as the value used (Gradio clamps it only on blur,
// so Enter left "40" in the box while 15 was used).
const clampToRange = (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.type !== "number" || box.max === "") return;
  const value = Number(box.value);
  const clamped = Math.min(Math.max(value, Number(box.min || value)), Number(box.max));
  if (box.value !== "" && value !== clamped) {
    box.value = String(clamped);
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }
};
document.addEventListener("change", clampToRange, true);
document.addEventListener("keydown", (event) => { if (event.key === "Enter") clampToRange(event); }, true);

// A watch match's "Ask about it": put its question in the question box and ask it (one click).
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("button.pt-ask-about");
  if (!button) return;
  event.preventDefault();
  const box = document.querySelector("#pt-question textarea");
  const send = document.querySelector("#pt-send");
  if (!box || !send) return;
  box.value = button.dataset.question;
  box.dispatchEvent(new Event("input", { bubbles: true }));
  setTimeout(() => send.click(), 50);
  box.scrollIntoView({ behavior: "smooth", block: "center" });
}, true);
