"""The Zoho sandbox's pages (English-only developer tools): plain HTML forms, no JavaScript needed."""

from __future__ import annotations

HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · Zoho CRM sandbox</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
header{background:#1f3a5f;color:#fff;padding:.6rem 1.2rem}header a{color:#fff;text-decoration:none;margin-right:1rem}
main{max-width:1100px;margin:1rem auto;padding:0 1rem}
section,form.card{background:#fff;border:1px solid #d9dde5;border-radius:6px;padding:1rem;margin-bottom:1rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #e3e6ec;padding:.35rem .5rem;text-align:left;
vertical-align:top}th{background:#f0f2f6;font-weight:600}
label{display:block;font-size:.85rem;color:#4a5367;margin-top:.4rem}
input,select,textarea{font:inherit;padding:.3rem;border:1px solid #b9c0cc;border-radius:4px;max-width:100%}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:.3rem 1rem}
button,.button{font:inherit;background:#1f6feb;color:#fff;border:0;border-radius:4px;padding:.4rem .9rem;
cursor:pointer;text-decoration:none;display:inline-block}
.danger{background:#c62828}.secondary{background:#5b6475}.muted{color:#6b7385;font-size:.85rem}
.error{background:#fdecea;border:1px solid #f5c2c0;padding:.6rem;border-radius:4px;color:#8a1c1c}
.ok{background:#e8f5e9;border:1px solid #b7dfb9;padding:.6rem;border-radius:4px}
code{background:#eef0f4;padding:0 .2rem;border-radius:3px}
</style></head><body>
<header><a href="/zoho/_sandbox/"><strong>Zoho CRM sandbox</strong></a>{% if org %}
<a href="/zoho/_sandbox/org/{{ org.id }}/">{{ org.company_name }} ({{ org.dc|upper }})</a>{% endif %}</header>
<main>
{% if message %}<p class="ok">{{ message }}</p>{% endif %}{% if error %}<p class="error">{{ error }}</p>{% endif %}
"""
FOOT = "</main></body></html>"

ERROR_PAGE = HEAD.replace("{{ title }}", "{{ title }}") + """
<section><h1>{{ title }}</h1><p>{{ message }}</p></section>""" + FOOT

CONSENT_PAGE = HEAD + """
<form class="card" method="post" action="/zoho/accounts/oauth/v2/auth">
<h1>Zoho Accounts</h1>
<p>Signed in as <strong>{{ user.first_name }} {{ user.last_name }}</strong> &lt;{{ user.email }}&gt;.</p>
<p><strong>{{ params.client_id }}</strong> would like to access your Zoho CRM data:</p>
<ul>{% for scope in scopes %}<li><code>{{ scope }}</code></li>{% endfor %}</ul>
{% if params.access_type == "offline" %}<p class="muted">The application asks for offline access
(a refresh token that keeps working until you revoke it).</p>{% endif %}
<fieldset><legend>Organisation</legend>
{% for org in orgs %}<label><input type="radio" name="org_id" value="{{ org.id }}"{% if loop.first %} checked{% endif %}>
{{ org.company_name }} — {{ data_centres[org.dc].label }} (<code>{{ org.dc }}</code>), {{ org.edition }} edition</label>
{% endfor %}</fieldset>
<label for="dc">Data centre of the organisation</label>
<select id="dc" name="dc"><option value="">As registered</option>
{% for code, dc in data_centres.items() %}<option value="{{ code }}">{{ dc.label }} ({{ code }})</option>{% endfor %}
</select>
<p class="muted">Choosing another data centre moves the organisation there: tokens issued for its previous
data centre stop working, as they would for a real org.</p>
{% for key, value in params.items() %}<input type="hidden" name="{{ key }}" value="{{ value }}">{% endfor %}
<p><button type="submit" name="decision" value="allow">Accept</button>
<button type="submit" name="decision" value="deny" class="secondary">Reject</button></p>
</form>""" + FOOT

INDEX_PAGE = HEAD + """
<section><h1>Organisations</h1>
<table><tr><th>Organisation</th><th>Id</th><th>DC</th><th>Edition</th><th>Credits used / day</th>
{% for module in modules %}<th>{{ module }}</th>{% endfor %}</tr>
{% for row in rows %}<tr><td><a href="/zoho/_sandbox/org/{{ row.org.id }}/">{{ row.org.company_name }}</a></td>
<td><code>{{ row.org.id }}</code></td><td>{{ row.org.dc }}</td><td>{{ row.org.edition }}</td>
<td>{{ row.used }} / {{ row.cap if row.cap is not none else "unlimited" }}</td>
{% for module in modules %}<td><a href="/zoho/_sandbox/org/{{ row.org.id }}/{{ module }}/">{{ row.counts[module] }}</a></td>
{% endfor %}</tr>{% endfor %}</table></section>
<section><h2>Recent deliveries</h2>
{% if deliveries %}<table><tr><th>#</th><th>Kind</th><th>URL</th><th>Status</th><th>Attempts</th><th>Last</th></tr>
{% for d in deliveries %}<tr><td>{{ d.id }}</td><td>{{ d.kind }}</td><td><code>{{ d.url }}</code></td><td>{{ d.status }}</td>
<td>{{ d.attempts }}</td><td>{{ d.last_status or d.last_error or "" }}</td></tr>{% endfor %}</table>
{% else %}<p class="muted">No notification or webhook has been sent since the last reset.</p>{% endif %}</section>
<p class="muted">The JSON control API lives next to this page: <code>/zoho/_sandbox/reset</code>, <code>seed</code>,
<code>stats</code>, <code>faults</code>, <code>clock</code>, <code>webhooks</code>, <code>orgs</code>, <code>tokens</code>,
<code>settings</code> (see the README).</p>""" + FOOT

ORG_PAGE = HEAD + """
<section><h1>{{ org.company_name }}</h1>
<p>Org <code>{{ org.id }}</code>, data centre <code>{{ org.dc }}</code>, {{ org.edition }} edition,
time zone {{ org.time_zone }}. Credits used in the last 24 hours: {{ used }} of
{{ cap if cap is not none else "unlimited" }}.</p>
<table><tr><th>Module</th><th>Records</th><th></th></tr>
{% for module in modules %}<tr><td>{{ module.plural }} <span class="muted">({{ module.api_name }})</span></td>
<td>{{ counts[module.api_name] }}</td><td><a href="/zoho/_sandbox/org/{{ org.id }}/{{ module.api_name }}/">Open</a>
· <a href="/zoho/_sandbox/org/{{ org.id }}/{{ module.api_name }}/new">New</a></td></tr>{% endfor %}</table>
{% if "Xero_Accounts" not in org.custom_modules %}
<form method="post" action="/zoho/_sandbox/org/{{ org.id }}/install-xero-accounts"><p>
<button type="submit">Install the Xero_Accounts module</button></p></form>{% endif %}</section>

<form class="card" method="post" action="/zoho/_sandbox/org/{{ org.id }}/settings"><h2>Settings</h2><div class="grid">
<div><label for="edition">Edition</label><select id="edition" name="edition">
{% for name in editions %}<option{% if name == org.edition %} selected{% endif %}>{{ name }}</option>{% endfor %}
</select></div>
<div><label for="credits">Credits per day (empty: the edition's)</label>
<input id="credits" name="credits_per_day" value="{{ org.credits_per_day if org.credits_per_day is not none else '' }}"></div>
<div><label for="latency">Added latency per API call (ms)</label><input id="latency" name="latency_ms" value="{{ org.latency_ms }}"></div>
<div><label for="xero">Send to Xero button URL</label><input id="xero" name="send_to_xero_url" size="40"
value="{{ org.send_to_xero_url }}" placeholder="http://localhost:5000/hooks/zoho/push?module=${module}&id=${id}"></div>
</div><p class="muted">Merge fields in the button URL: <code>${module}</code>, <code>${id}</code>,
<code>${Invoices.Invoice Id}</code>, <code>${Accounts.Account Name}</code>, ...</p><p><button type="submit">Save</button></p></form>

<form class="card" method="post" action="/zoho/_sandbox/org/{{ org.id }}/fields"><h2>Add a custom field</h2><div class="grid">
<div><label for="cf-module">Module</label><select id="cf-module" name="module">
{% for module in modules %}<option>{{ module.api_name }}</option>{% endfor %}</select></div>
<div><label for="cf-label">Field label</label><input id="cf-label" name="label" required></div>
<div><label for="cf-type">Data type</label><select id="cf-type" name="data_type">
{% for t in field_types %}<option>{{ t }}</option>{% endfor %}</select></div>
<div><label for="cf-length">Length</label><input id="cf-length" name="length" value="255"></div>
<div><label for="cf-values">Picklist values (one per line)</label><textarea id="cf-values" name="pick_list_values" rows="3"></textarea></div>
<div><label for="cf-lookup">Lookup module</label><select id="cf-lookup" name="lookup"><option value=""></option>
{% for module in modules %}<option>{{ module.api_name }}</option>{% endfor %}</select></div>
<div><label><input type="checkbox" name="unique" value="1"> Unique</label>
<label><input type="checkbox" name="mandatory" value="1"> Mandatory</label></div>
</div><p><button type="submit">Add field</button></p></form>

<section><h2>Workflow rules with a webhook</h2>
{% if org.workflow_webhooks %}<table><tr><th>Name</th><th>Module</th><th>Event</th><th>URL</th><th>Parameters</th><th></th></tr>
{% for hook in org.workflow_webhooks %}<tr><td>{{ hook.name }}</td><td>{{ hook.module }}</td><td>{{ hook.event }}</td>
<td><code>{{ hook.url }}</code></td><td>{% for k, v in hook.params.items() %}<code>{{ k }}={{ v }}</code> {% endfor %}</td>
<td><form method="post" action="/zoho/_sandbox/org/{{ org.id }}/workflows/{{ hook.id }}/delete">
<button class="danger" type="submit">Delete</button></form></td></tr>{% endfor %}</table>
{% else %}<p class="muted">None yet.</p>{% endif %}
<form method="post" action="/zoho/_sandbox/org/{{ org.id }}/workflows"><div class="grid">
<div><label for="wf-module">Module</label><select id="wf-module" name="module">
{% for module in modules %}<option>{{ module.api_name }}</option>{% endfor %}</select></div>
<div><label for="wf-event">When a record is</label><select id="wf-event" name="event">
<option value="create_or_edit">created or edited</option><option value="create">created</option>
<option value="edit">edited</option><option value="delete">deleted</option></select></div>
<div><label for="wf-url">Webhook URL</label><input id="wf-url" name="url" size="40" required></div>
<div><label for="wf-params">Parameters (name=value per line, merge fields allowed)</label>
<textarea id="wf-params" name="params" rows="3">id=${id}
module=${module}</textarea></div>
<div><label for="wf-body">Body</label><select id="wf-body" name="body"><option>form</option><option>json</option></select></div>
</div><p><button type="submit">Add rule</button></p></form></section>

<section><h2>Notification channels</h2>
{% if channels %}<table><tr><th>Channel</th><th>Events</th><th>Notify URL</th><th>Expires</th></tr>
{% for c in channels %}<tr><td>{{ c.channel_id }}</td><td>{{ c.events|join(", ") }}</td><td><code>{{ c.notify_url }}</code></td>
<td>{{ c.expiry }}{% if c.expired %} (expired){% endif %}</td></tr>{% endfor %}</table>
{% else %}<p class="muted">No channel is subscribed.</p>{% endif %}</section>

<section><h2>Tokens</h2>
{% if tokens %}<table><tr><th>Kind</th><th>Token</th><th>Scope</th><th>State</th></tr>
{% for t in tokens %}<tr><td>{{ t.kind }}</td><td><code>{{ t.token[:18] }}…</code></td><td class="muted">{{ t.scope }}</td>
<td>{{ "active" if t.active else "revoked" if t.revoked else "expired" }}</td></tr>{% endfor %}</table>
<form method="post" action="/zoho/_sandbox/org/{{ org.id }}/tokens"><p>
<button type="submit" name="action" value="expire" class="secondary">Expire access tokens now</button>
<button type="submit" name="action" value="revoke" class="danger">Revoke every token</button></p></form>
{% else %}<p class="muted">No token has been issued for this org.</p>{% endif %}</section>""" + FOOT

LIST_PAGE = HEAD + """
<section><h1>{{ module.plural }}</h1>
<form method="get"><input name="q" value="{{ q }}" placeholder="Search {{ module.plural|lower }}">
<button type="submit" class="secondary">Search</button>
<a class="button" href="/zoho/_sandbox/org/{{ org.id }}/{{ module.api_name }}/new">New {{ module.singular|lower }}</a></form>
{% if rows %}<table><tr><th>{{ display_label }}</th><th>Id</th>{% for f in columns %}<th>{{ f.label }}</th>{% endfor %}
<th>Modified</th></tr>
{% for row in rows %}<tr><td><a href="/zoho/_sandbox/org/{{ org.id }}/{{ module.api_name }}/{{ row.id }}">{{ row.display or "(no name)" }}</a></td>
<td><code>{{ row.id }}</code></td>{% for f in columns %}<td>{{ row.cells[f.api_name] }}</td>{% endfor %}
<td>{{ row.modified }}</td></tr>{% endfor %}</table>
<p>{% if page > 1 %}<a href="?page={{ page - 1 }}&q={{ q }}">Previous</a>{% endif %} Page {{ page }}
{% if more %}<a href="?page={{ page + 1 }}&q={{ q }}">Next</a>{% endif %}</p>
{% else %}<p class="muted">No records.</p>{% endif %}</section>""" + FOOT

RECORD_PAGE = HEAD + """
<section><h1>{% if record_id %}{{ display or "(no name)" }} <span class="muted">{{ module.singular }}
<code>{{ record_id }}</code></span>{% else %}New {{ module.singular|lower }}{% endif %}</h1>
{% if record_id %}<p>
{% if send_to_xero %}<a class="button" href="{{ send_to_xero }}" target="_blank" rel="noopener">Send to Xero</a>
{% else %}<span class="muted">Send to Xero: no button URL is configured for this org
(<a href="/zoho/_sandbox/org/{{ org.id }}/">settings</a>).</span>{% endif %}
<span class="muted">Created {{ created }} · modified {{ modified }}</span></p>{% endif %}</section>
<form class="card" method="post">
<div class="grid">{% for f in fields %}<div><label for="f-{{ f.api_name }}">{{ f.label }}{% if f.mandatory %} *{% endif %}
<span class="muted">{{ f.api_name }}</span></label>
{% if f.read_only %}<div>{{ values[f.api_name] }}</div>
{% elif f.data_type == "picklist" %}<select id="f-{{ f.api_name }}" name="{{ f.api_name }}"><option value=""></option>
{% for v in f.picklist %}<option{% if values[f.api_name] == v %} selected{% endif %}>{{ v }}</option>{% endfor %}</select>
{% elif f.data_type == "multiselectpicklist" %}<select id="f-{{ f.api_name }}" name="{{ f.api_name }}" multiple>
{% for v in f.picklist %}<option{% if v in values[f.api_name].split(";") %} selected{% endif %}>{{ v }}</option>{% endfor %}</select>
{% elif f.data_type == "boolean" %}<input type="checkbox" id="f-{{ f.api_name }}" name="{{ f.api_name }}" value="true"
{% if values[f.api_name] == "true" %} checked{% endif %}>
{% elif f.data_type == "ownerlookup" %}<select id="f-{{ f.api_name }}" name="{{ f.api_name }}">
{% for u in org.users %}<option value="{{ u.id }}"{% if values[f.api_name] == u.id %} selected{% endif %}>{{ u.full_name }}</option>{% endfor %}</select>
{% elif f.data_type == "lookup" %}<input id="f-{{ f.api_name }}" name="{{ f.api_name }}" value="{{ values[f.api_name] }}"
list="options-{{ f.lookup }}" placeholder="{{ f.lookup }} id">{% if names[f.api_name] %}<div class="muted">{{ names[f.api_name] }}</div>{% endif %}
{% elif f.data_type == "textarea" %}<textarea id="f-{{ f.api_name }}" name="{{ f.api_name }}" rows="2">{{ values[f.api_name] }}</textarea>
{% elif f.data_type == "date" %}<input type="date" id="f-{{ f.api_name }}" name="{{ f.api_name }}" value="{{ values[f.api_name] }}">
{% elif f.data_type == "datetime" %}<input type="datetime-local" id="f-{{ f.api_name }}" name="{{ f.api_name }}" value="{{ values[f.api_name] }}">
{% else %}<input id="f-{{ f.api_name }}" name="{{ f.api_name }}" value="{{ values[f.api_name] }}">{% endif %}
</div>{% endfor %}</div>
{% for target, options in lookup_options.items() %}<datalist id="options-{{ target }}">
{% for o in options %}<option value="{{ o.id }}">{{ o.display }}</option>{% endfor %}</datalist>{% endfor %}
{% if lines is not none %}<h2>{{ subform_label }}</h2>
<table><tr><th>Product (id)</th><th>Quantity</th><th>List price</th><th>Discount</th><th>Tax</th><th>Total</th><th>Remove</th></tr>
{% for line in lines %}<tr><td><input name="line-{{ loop.index0 }}-Product_Name" value="{{ line.product }}" list="options-Products" size="20">
<input type="hidden" name="line-{{ loop.index0 }}-id" value="{{ line.id }}"><div class="muted">{{ line.product_name }}</div></td>
<td><input name="line-{{ loop.index0 }}-Quantity" value="{{ line.quantity }}" size="5"></td>
<td><input name="line-{{ loop.index0 }}-List_Price" value="{{ line.list_price }}" size="8"></td>
<td><input name="line-{{ loop.index0 }}-Discount" value="{{ line.discount }}" size="6"></td>
<td><select name="line-{{ loop.index0 }}-Tax"><option value=""></option>{% for name, pct in taxes %}
<option value="{{ name }}"{% if line.tax == name %} selected{% endif %}>{{ name }} ({{ pct }}%)</option>{% endfor %}</select></td>
<td>{{ line.net_total }}</td><td>{% if line.id %}<input type="checkbox" name="line-{{ loop.index0 }}-delete" value="1">{% endif %}</td></tr>
{% endfor %}</table><input type="hidden" name="line-count" value="{{ lines|length }}">{% endif %}
<p><button type="submit">Save</button></p></form>
{% if related %}<section><h2>Related {{ related.module }}</h2>{% if related.rows %}<ul>
{% for r in related.rows %}<li><a href="/zoho/_sandbox/org/{{ org.id }}/{{ related.module }}/{{ r.id }}">{{ r.display }}</a></li>{% endfor %}
</ul>{% else %}<p class="muted">None.</p>{% endif %}</section>{% endif %}
{% if record_id %}<form method="post" action="/zoho/_sandbox/org/{{ org.id }}/{{ module.api_name }}/{{ record_id }}/delete">
<p><button class="danger" type="submit">Delete this {{ module.singular|lower }}</button></p></form>{% endif %}""" + FOOT
