// Progressive enhancement for the reader site: everything works without this file.
(function () {
  "use strict";
  const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

  // The cart drawer: close button, Escape, and focus moved into the drawer when it opens.
  const cart = document.getElementById("cart");
  if (cart) {
    cart.addEventListener("toggle", () => {
      if (cart.open) cart.querySelector("[data-cart-close]").focus();
    });
    cart.querySelector("[data-cart-close]").addEventListener("click", () => {
      cart.open = false;
      cart.querySelector("summary").focus();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && cart.open) {
        cart.open = false;
        cart.querySelector("summary").focus();
      }
    });
  }

  // The subscribe banner: submit in place and show the code without leaving the page.
  const form = document.querySelector("[data-subscribe-form]");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const message = form.querySelector("[data-subscribe-message]");
      const response = await fetch(form.action, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: new FormData(form),
      });
      const data = await response.json().catch(() => ({}));
      if (response.ok) {
        message.innerHTML = "";
        message.append("Thank you! Your 15% off code: ");
        const code = document.createElement("strong");
        code.className = "discount-code-inline";
        code.textContent = data.code;
        message.append(code);
      } else {
        message.textContent = data.message || "Something went wrong. Please try again.";
      }
    });
  }
})();
