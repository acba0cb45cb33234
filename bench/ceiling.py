"""The ceiling: bare Flask + Jinja serving a post page of the same size from memory.

No database, no blocks, no sessions: what the hardware and the framework allow. The
benchmark reports ALLY's throughput as a fraction of this.
"""

from flask import Flask

from ally import demo

TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }} – ALLY Essentials</title><link rel="stylesheet" href="/static/css/site.css"></head>
<body><div class="announcement">Click Here To Subscribe and avail of the 15% off discount code</div>
<div class="shipping-bar">Free Shipping With Orders Above $50</div>
<header class="site-header"><a class="logo" href="/">ALLY Essentials</a>
{% for item in menu %}<a href="{{ item.url }}">{{ item.title }}</a>{% endfor %}
<span class="cart">Cart 0 $0.00</span></header>
<main><article class="post"><h1>{{ title }}</h1><p class="post-meta">Aug 12, 2024 | Health Management, Recovery</p>
{% for block in body %}{% if block.type == "heading" %}<h2>{{ block.value.text }}</h2>
{% elif block.type == "paragraph" %}<p>{{ block.value|safe }}</p>
{% elif block.type == "bulleted_list" %}<ul>{% for item in block.value %}<li>{{ item|safe }}</li>{% endfor %}</ul>
{% elif block.type == "product_promo" %}<aside class="product-card"><h3>{{ block.value.headline }}</h3>
<p class="price">$24.99</p><form method="post" action="/cart/add"><button>Add to cart</button></form></aside>
{% endif %}{% endfor %}</article></main>
<aside class="cart-drawer"><h2>My cart</h2><p>Your cart is empty.</p><p>Looks like you haven't made a choice yet.</p></aside>
<footer class="site-footer"><p>ALLY Essentials</p></footer></body></html>"""

POST = demo.PAGES[2]
MENU = [
    {"url": "/blog/", "title": "Blog"},
    {"url": "/products/", "title": "Shop"},
    {"url": "/about/", "title": "About"},
]

app = Flask(__name__)
# Compiled once, as Flask does for template files.
COMPILED = app.jinja_env.from_string(TEMPLATE)


@app.get("/post/")
def post():
    return COMPILED.render(title=POST["title"], body=POST["body"], menu=MENU)
