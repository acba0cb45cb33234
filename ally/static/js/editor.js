// The page editor: Editor.js as the editing surface, one adapter between its data and the
// stored StreamField JSON, and ALLY's own tools (Image, Product promo, Call to action).
// The server validates and sanitises everything; this file only moves data and shows errors.
(function () {
  "use strict";
  const form = document.getElementById("page-form");
  const holder = document.getElementById("editor");
  const bodyField = document.getElementById("body-field");
  const config = JSON.parse(document.getElementById("editor-config").textContent);
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

  // -- small DOM helpers --------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  }
  const escapeHtml = (text) => String(text ?? "").replace(/[&<>"]/g,
    (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]);
  // DOMParser documents are inert: no scripts run and no images load while reading text.
  const htmlToText = (html) =>
    new DOMParser().parseFromString(String(html ?? ""), "text/html").body.textContent.trim();
  const labelled = (text, control) => el("label", { className: "ally-tool-field" }, el("span", { text }), control);

  // -- the adapter: stream JSON <-> Editor.js data ------------------------------------------
  function toEditor(stream) {
    return { blocks: stream.map((block) => {
      const { id, value } = block;
      switch (block.type) {
        case "heading":
          return { id, type: "header", data: { text: escapeHtml(value?.text), level: value?.level || 2 } };
        case "paragraph":
          return { id, type: "paragraph", data: { text: typeof value === "string" ? value : "" } };
        case "bulleted_list":
        case "numbered_list":
          return { id, type: "list", data: {
            style: block.type === "numbered_list" ? "ordered" : "unordered", meta: {},
            items: (Array.isArray(value) ? value : []).map((content) => ({ content, meta: {}, items: [] })) } };
        case "quote":
          return { id, type: "quote", data: { text: escapeHtml(value?.text), caption: escapeHtml(value?.attribution), alignment: "left" } };
        case "image":
        case "product_promo":
        case "call_to_action":
          return { id, type: block.type, data: value || {} };
        default: // kept as an Editor.js stub so nothing is lost; the server reports it
          return { id, type: block.type, data: { raw: value } };
      }
    }) };
  }

  const flatten = (items) => items.flatMap((item) =>
    [typeof item === "string" ? item : item.content, ...flatten(item.items || [])]);

  function fromEditor(saved) {
    return saved.blocks.map(({ id, type, data }) => {
      switch (type) {
        case "header": return { type: "heading", value: { text: htmlToText(data.text), level: data.level }, id };
        case "paragraph": return { type: "paragraph", value: data.text, id };
        case "list": return { type: data.style === "ordered" ? "numbered_list" : "bulleted_list", value: flatten(data.items || []), id };
        case "quote": return { type: "quote", value: { text: htmlToText(data.text), attribution: htmlToText(data.caption) }, id };
        case "image":
        case "product_promo":
        case "call_to_action": return { type, value: data, id };
        default: return { type, value: data.raw !== undefined ? data.raw : data, id };
      }
    });
  }

  // -- ALLY's own tools -----------------------------------------------------------------------
  const ICONS = {
    image: '<svg width="20" height="20" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="2" d="M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4"/></svg>',
    promo: '<svg width="20" height="20" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="2" d="M3 12l9-9h9v9l-9 9zM16 8h.01"/></svg>',
    cta: '<svg width="20" height="20" viewBox="0 0 24 24"><path fill="none" stroke="currentColor" stroke-width="2" d="M5 12h14M13 6l6 6-6 6"/></svg>',
  };

  class FormTool {
    static get enableLineBreaks() { return true; }
    constructor({ data }) { this.data = data || {}; this.inputs = {}; }
    input(name, label, attrs) {
      const control = el("input", { value: this.data[name] ?? attrs?.value ?? "", ...attrs });
      control.value = this.data[name] ?? attrs?.value ?? "";
      this.inputs[name] = control;
      return labelled(label, control);
    }
  }

  class ProductPromoTool extends FormTool {
    static get toolbox() { return { title: "Product promo", icon: ICONS.promo }; }
    render() {
      const select = el("select", {}, el("option", { value: "", text: "Choose a product…" }),
        ...config.products.map((p) => el("option", { value: String(p.id), text: `${p.name} ($${(p.price / 100).toFixed(2)})` })));
      select.value = this.data.product ? String(this.data.product) : "";
      this.inputs.product = select;
      this.text = el("div", { className: "cdx-input ally-rich", contenteditable: "true", role: "textbox", "aria-label": "Text" });
      this.text.innerHTML = this.data.text || "";
      return el("div", { className: "ally-tool" }, el("p", { className: "ally-tool-name", text: "Product promo" }),
        labelled("Product", select), this.input("headline", "Headline", { maxlength: "120" }),
        el("div", { className: "ally-tool-field" }, el("span", { text: "Text" }), this.text),
        this.input("cta", "Button text", { maxlength: "40", value: "Add to cart" }));
    }
    save() {
      return { product: Number(this.inputs.product.value) || null, headline: this.inputs.headline.value,
               text: this.text.innerHTML, cta: this.inputs.cta.value };
    }
  }

  class CallToActionTool extends FormTool {
    static get toolbox() { return { title: "Call to action", icon: ICONS.cta }; }
    render() {
      return el("div", { className: "ally-tool" }, el("p", { className: "ally-tool-name", text: "Call to action" }),
        this.input("text", "Button text", { maxlength: "80" }),
        this.input("url", "Link", { placeholder: "https://… or /blog/…", inputmode: "url" }));
    }
    save() { return { text: this.inputs.text.value, url: this.inputs.url.value }; }
  }

  class ImageTool extends FormTool {
    static get toolbox() { return { title: "Image", icon: ICONS.image }; }
    render() {
      const select = el("select", {}, el("option", { value: "", text: "Choose an image…" }),
        ...config.images.map((i) => el("option", { value: String(i.id), text: i.title })));
      select.value = this.data.image ? String(this.data.image) : "";
      this.inputs.image = select;
      this.preview = el("img", { className: "ally-image-preview", alt: "" });
      const file = el("input", { type: "file", accept: "image/jpeg,image/png,image/gif,image/webp" });
      this.status = el("span", { className: "ally-upload-status", role: "status" });
      file.addEventListener("change", () => this.upload(file));
      select.addEventListener("change", () => this.showPreview());
      const wrap = el("div", { className: "ally-tool" }, el("p", { className: "ally-tool-name", text: "Image" }),
        labelled("Image", select), labelled("Or upload a new image", file), this.status, this.preview,
        this.input("alt", "Alt text", { maxlength: "255" }), this.input("caption", "Caption", { maxlength: "255" }));
      this.showPreview();
      return wrap;
    }
    showPreview() {
      const image = config.images.find((i) => String(i.id) === this.inputs.image.value);
      this.preview.hidden = !image;
      if (image) this.preview.src = image.thumbnail;
    }
    async upload(file) {
      if (!file.files.length) return;
      const body = new FormData();
      body.append("file", file.files[0]);
      body.append("title", file.files[0].name);
      body.append("alt", this.inputs.alt.value);
      this.status.textContent = "Uploading…";
      const response = await fetch(config.uploadUrl, { method: "POST", body, headers: { "X-CSRFToken": csrfToken } });
      const data = await response.json().catch(() => ({ message: "The upload failed." }));
      if (!response.ok) { this.status.textContent = data.message; return; }
      config.images.unshift(data);
      this.inputs.image.prepend(el("option", { value: String(data.id), text: data.title }));
      this.inputs.image.value = String(data.id);
      this.status.textContent = `Uploaded “${data.title}”.`;
      this.showPreview();
    }
    save() {
      return { image: Number(this.inputs.image.value) || null, alt: this.inputs.alt.value, caption: this.inputs.caption.value };
    }
  }

  // -- the editor -----------------------------------------------------------------------------
  const editor = new EditorJS({
    holder,
    data: toEditor(config.body),
    autofocus: false,
    tools: {
      paragraph: { inlineToolbar: true, config: { placeholder: "Write here. Press Tab or + to add a heading, list, image or product promo." } },
      header: { class: Header, inlineToolbar: false, config: { levels: [2, 3, 4], defaultLevel: 2, placeholder: "Heading" } },
      list: { class: EditorjsList, inlineToolbar: true, config: { defaultStyle: "unordered", maxLevel: 1 },
              toolbox: [{ title: "Bulleted list", data: { style: "unordered" } }, { title: "Numbered list", data: { style: "ordered" } }] },
      quote: { class: Quote, inlineToolbar: false, config: { quotePlaceholder: "Quote", captionPlaceholder: "Attribution" } },
      image: ImageTool,
      product_promo: { class: ProductPromoTool, inlineToolbar: true },
      call_to_action: CallToActionTool,
    },
    i18n: { messages: { toolNames: { Text: "Paragraph", Heading: "Heading", Quote: "Quote", Link: "Link", Bold: "Bold", Italic: "Italic" } } },
  });

  // -- errors from the server, placed on their blocks ------------------------------------------
  function childSchema(schema, key) {
    if (!schema) return null;
    if (schema.children) return schema.children.find((child) => child.name === key) || null;
    return schema.child || null;
  }
  function describe(error, schema, prefix) {
    const lines = (error.messages || []).map((m) => (prefix ? `${prefix}: ${m}` : m));
    for (const [key, child] of Object.entries(error.blockErrors || {})) {
      const sub = childSchema(schema, key);
      const name = schema && schema.kind === "list" ? `Item ${Number(key) + 1}` : (sub ? sub.label : key);
      lines.push(...describe(child, sub, prefix ? `${prefix} › ${name}` : name));
    }
    return lines;
  }
  async function showErrors() {
    if (!config.errors || !config.errors.blockErrors) return;
    await editor.isReady;
    let first = null;
    for (const [index, error] of Object.entries(config.errors.blockErrors)) {
      const block = editor.blocks.getBlockByIndex(Number(index));
      if (!block) continue;
      const type = (config.body[Number(index)] || {}).type;
      const schema = config.schema.children.find((child) => child.name === type);
      const box = el("div", { className: "block-errors", role: "alert" },
        ...describe(error, schema, "").map((line) => el("p", { text: line })));
      block.holder.classList.add("block-invalid");
      block.holder.append(box);
      first = first || block.holder;
    }
    if (first) first.scrollIntoView({ block: "center" });
  }
  showErrors();
  const summary = document.getElementById("error-summary") || document.getElementById("conflict");
  if (summary) summary.focus();

  // -- saving: serialise the blocks into the hidden field, then submit as the button asked ----
  const actionField = el("input", { type: "hidden", name: "action", value: "save" });
  form.append(actionField);
  for (const button of form.querySelectorAll('button[name="action"]')) {
    button.dataset.action = button.value;
    button.removeAttribute("name"); // the hidden field carries the action instead
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = event.submitter || form.querySelector("button[data-action]");
    let body;
    try {
      body = JSON.stringify(fromEditor(await editor.save()));
    } catch (error) {
      window.alert("The editor could not save its content. Nothing was sent; please try again.");
      return;
    }
    bodyField.value = body;
    actionField.value = button.dataset.action;
    // submit() sends the form as the button would have, without firing this handler again.
    // (Attributes, not properties: the hidden field named "action" shadows form.action.)
    const original = form.getAttribute("action");
    form.setAttribute("action", button.getAttribute("formaction") || original);
    form.setAttribute("target", button.getAttribute("formtarget") || "_self");
    HTMLFormElement.prototype.submit.call(form);
    form.setAttribute("action", original);
    form.setAttribute("target", "_self");
  });
})();
