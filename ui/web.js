// Papertrail web UI: a click on an answer's [n] scrolls to source card n and flashes it (instead of following the link).
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
