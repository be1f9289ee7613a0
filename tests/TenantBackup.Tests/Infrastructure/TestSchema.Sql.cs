namespace TenantBackup.Tests.Infrastructure;

// The SQL behind TestSchema; the facts it promises (row counts, edge-case values) are in TestSchema.cs and are
// checked against a built database by TestSchemaTests, so change both together.
public static partial class TestSchema
{
    /// <summary>DDL only: extension, enum, tables, partitions, views. Leaves every table empty.</summary>
    public static string SchemaSql() => Schema;

    /// <summary>
    /// Deterministic rows for tenants 1–3, the empty tenant 4 and the shared tables; run after <see cref="SchemaSql"/>.
    /// </summary>
    public static string DataSql() => Data;

    /// <summary><see cref="SchemaSql"/> followed by <see cref="DataSql"/>; run it in one transaction.</summary>
    public static string CreateSql() => Schema + "\n" + Data;

    private const string Schema = """
CREATE EXTENSION citext;

CREATE TYPE public.plan_tier AS ENUM ('free', 'pro', 'enterprise');

-- Shared: no tenant column, and nothing in it points at tenants.
CREATE TABLE public.countries (
    code char(2) PRIMARY KEY,
    name text
);

-- Shared, but referenced by the root table.
CREATE TABLE public.plans (
    id int PRIMARY KEY,
    name text
);

-- Root table: tenant_id columns everywhere reference it.
CREATE TABLE public.tenants (
    id int PRIMARY KEY,
    name text NOT NULL,
    tier public.plan_tier NOT NULL DEFAULT 'free',
    plan_id int REFERENCES public.plans,
    created_at timestamptz NOT NULL
);

CREATE TABLE public.customers (
    id serial PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES public.tenants,
    name text NOT NULL,
    email citext,
    country_code char(2) REFERENCES public.countries,
    balance numeric(12,2),
    tags text[],
    settings jsonb,
    ip inet,
    notes text
);

-- Identity column (restore needs OVERRIDING SYSTEM VALUE) and a generated column (never exported or inserted).
CREATE TABLE public.projects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES public.tenants,
    customer_id int NOT NULL REFERENCES public.customers,
    name text NOT NULL,
    budget numeric,
    duration interval,
    starts_at timestamptz,
    name_upper text GENERATED ALWAYS AS (upper(name)) STORED
);

-- Indirect: no tenant column, scoped through projects.
CREATE TABLE public.invoices (
    id uuid PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES public.projects,
    number text NOT NULL,
    total numeric(14,2),
    issued_at timestamptz,
    pdf bytea
);

-- Indirect two levels down: invoice_lines -> invoices -> projects.
CREATE TABLE public.invoice_lines (
    invoice_id uuid NOT NULL REFERENCES public.invoices,
    line_no int NOT NULL,
    description text,
    amount numeric(12,2),
    PRIMARY KEY (invoice_id, line_no)
);

-- Composite primary key that includes the tenant column, and a composite self reference.
CREATE TABLE public.documents (
    tenant_id int NOT NULL REFERENCES public.tenants,
    doc_no int NOT NULL,
    title text NOT NULL,
    body text,
    parent_doc_no int,
    PRIMARY KEY (tenant_id, doc_no),
    FOREIGN KEY (tenant_id, parent_doc_no) REFERENCES public.documents (tenant_id, doc_no)
);

-- Composite foreign key; its tenant column has no FK of its own to tenants.
CREATE TABLE public.document_versions (
    tenant_id int NOT NULL,
    doc_no int NOT NULL,
    version int NOT NULL,
    content text,
    PRIMARY KEY (tenant_id, doc_no, version),
    FOREIGN KEY (tenant_id, doc_no) REFERENCES public.documents
);

-- Self reference.
CREATE TABLE public.employees (
    id serial PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES public.tenants,
    manager_id int REFERENCES public.employees (id),
    name text NOT NULL
);

-- Two-table cycle: stores.manager_staff_id -> staff, staff.store_id -> stores (the first edge is deferrable).
CREATE TABLE public.stores (
    id serial PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES public.tenants,
    name text NOT NULL,
    manager_staff_id int
);

CREATE TABLE public.staff (
    id serial PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES public.tenants,
    store_id int NOT NULL REFERENCES public.stores,
    name text NOT NULL
);

ALTER TABLE public.stores ADD CONSTRAINT stores_manager_staff_fk
    FOREIGN KEY (manager_staff_id) REFERENCES public.staff (id) DEFERRABLE INITIALLY IMMEDIATE;

-- No primary key (and, in the data, exact duplicate rows).
CREATE TABLE public.audit_log (
    tenant_id int NOT NULL REFERENCES public.tenants,
    at timestamptz NOT NULL,
    action text NOT NULL,
    detail jsonb
);

-- Partitioned: read through the parent, never the partitions as well.
CREATE TABLE public.events (
    tenant_id int NOT NULL REFERENCES public.tenants,
    id bigint NOT NULL,
    occurred_at timestamptz NOT NULL,
    kind text,
    payload jsonb,
    PRIMARY KEY (tenant_id, id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE public.events_2025 PARTITION OF public.events
    FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
CREATE TABLE public.events_2026 PARTITION OF public.events
    FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2027-01-01 00:00:00+00');

-- A second schema, with identifiers that need quoting (spaces, capitals).
CREATE SCHEMA billing;

CREATE TABLE billing."Payment Methods" (
    "Id" uuid PRIMARY KEY,
    tenant_id int NOT NULL REFERENCES public.tenants,
    "Card Holder" text,
    "Last4" char(4)
);

-- Indirect, across schemas and through a quoted uuid key.
CREATE TABLE billing."Charges" (
    id bigserial PRIMARY KEY,
    "Payment Method Id" uuid NOT NULL REFERENCES billing."Payment Methods",
    amount numeric(12,2),
    note text
);

-- Not data: a view and a materialized view must never be backed up or restored into.
CREATE VIEW public.customer_names AS
    SELECT tenant_id, name FROM public.customers;

CREATE MATERIALIZED VIEW public.tenant_stats AS
    SELECT t.id AS tenant_id, count(c.id) AS customers, coalesce(sum(c.balance), 0) AS balance
    FROM public.tenants t LEFT JOIN public.customers c ON c.tenant_id = t.id
    GROUP BY t.id;
""";

    private const string Data = """
-- Deterministic: fixed timestamps, no random(), uuids from md5. Keys are interleaved across tenants, as in a real
-- shared database. Scratch tables in the seed schema drive the sizes and are dropped at the end.
CREATE SCHEMA seed;

CREATE TABLE seed.spec (
    tenant int PRIMARY KEY,
    customers int, documents int, employees int, stores int, methods int, audits int, events int
);
INSERT INTO seed.spec VALUES
    (1, 50, 20, 20, 4, 4, 30, 40),
    (2, 30, 12, 12, 3, 3, 18, 24),
    (3, 10,  5,  6, 2, 2,  6, 10);

-- Text edge cases, used round-robin (k = (index - 1) % 10) so that every tenant has each of them.
CREATE TABLE seed.note (k int PRIMARY KEY, v text);
INSERT INTO seed.note VALUES
    (0, NULL),
    (1, ''),
    (2, E'tab\there'),
    (3, E'line one\nline two'),
    (4, E'carriage\r\nreturn'),
    (5, E'back\\slash C:\\temp\\'),
    (6, 'it''s "quoted"'),
    (7, 'café 日本語 🎉'),
    (8, E'\\N'),
    (9, 'plain note');

INSERT INTO public.countries (code, name) VALUES
    ('US', 'United States'), ('DE', 'Germany'), ('FR', 'France'), ('JP', '日本'), ('GB', 'United Kingdom'),
    ('BR', 'Brasil'), ('IN', 'India'), ('CA', 'Canada'), ('ES', 'España'), ('CI', 'Côte d''Ivoire');

INSERT INTO public.plans (id, name) VALUES (1, 'Free'), (2, 'Pro'), (3, 'Enterprise'), (4, 'Legacy');

INSERT INTO public.tenants (id, name, tier, plan_id, created_at) VALUES
    (1, 'Acme Corporation', 'enterprise', 3, '2024-01-15 09:30:00+00'),
    (2, 'Globex Café', 'pro', 2, '2024-03-01 12:00:00+01'),
    (3, 'Initech 日本', 'free', 1, '2024-06-30 23:59:59.5-07'),
    (4, 'Umbrella (no data)', 'free', NULL, '2025-01-01 00:00:00+00');

-- customers: index i within the tenant; ids interleave the tenants (1-1, 2-1, 3-1, 1-2, ...).
CREATE TABLE seed.customer AS
    SELECT s.tenant, g.i, (row_number() OVER (ORDER BY g.i, s.tenant))::int AS id
    FROM seed.spec s CROSS JOIN LATERAL generate_series(1, s.customers) AS g(i);

INSERT INTO public.customers (id, tenant_id, name, email, country_code, balance, tags, settings, ip, notes)
SELECT c.id, c.tenant,
    format('Customer %s-%s', c.tenant, c.i),
    CASE WHEN c.i % 7 = 0 THEN NULL
         WHEN c.i = 2 THEN format('Ünïcode.%s@Example.COM', c.tenant)
         ELSE format('Customer.%s.%s@Example.COM', c.tenant, c.i) END,
    (ARRAY['US', 'DE', 'FR', 'JP', 'GB', 'BR', 'IN', NULL])[1 + c.i % 8],
    CASE c.i WHEN 2 THEN 9999999999.99 WHEN 3 THEN -9999999999.99 WHEN 4 THEN 0 WHEN 5 THEN NULL
             ELSE round(((c.i * 7919 + c.tenant * 104729) % 200000 - 100000) / 100.0, 2) END,
    CASE c.i % 4
        WHEN 1 THEN ARRAY['vip', 'with space', 'with,comma', 'with "quote"', NULL, 'NULL', '', E'back\\slash', '{braces}']
        WHEN 2 THEN '{}'::text[]
        WHEN 3 THEN ARRAY[format('tag-%s', c.i), 'ünï']
        ELSE NULL END,
    CASE c.i % 3
        WHEN 1 THEN '{"theme": "dark", "greeting": "こんにちは 🎉",
            "nested": {"list": [1, 2.50, "three", null, true, {"é": "ü"}], "quote": "say \"hi\"",
            "path": "C:\\temp", "ctrl": "tab\tnew\nline"}}'::jsonb
        WHEN 2 THEN jsonb_build_object('theme', 'light', 'level', c.i, 'flags', jsonb_build_array(c.i % 2 = 0, NULL))
        ELSE NULL END,
    CASE c.i % 5
        WHEN 1 THEN format('192.0.2.%s', c.i)::inet
        WHEN 2 THEN format('2001:db8::%s', to_hex(c.i))::inet
        WHEN 3 THEN '10.20.0.0/16'::inet
        WHEN 4 THEN '::ffff:198.51.100.7'::inet
        ELSE NULL END,
    n.v
FROM seed.customer c JOIN seed.note n ON n.k = (c.i - 1) % 10
ORDER BY c.id;

-- projects: customer i has i % 3 of them (some none); k numbers them within the tenant.
CREATE TABLE seed.project AS
    SELECT c.tenant, c.id AS customer_id, g.j,
        (row_number() OVER (ORDER BY c.id, g.j))::bigint AS id,
        (row_number() OVER (PARTITION BY c.tenant ORDER BY c.i, g.j))::int AS k
    FROM seed.customer c CROSS JOIN LATERAL generate_series(1, c.i % 3) AS g(j);

INSERT INTO public.projects (id, tenant_id, customer_id, name, budget, duration, starts_at) OVERRIDING SYSTEM VALUE
SELECT p.id, p.tenant, p.customer_id,
    CASE WHEN p.k = 2 THEN format('Straße café 日本 %s', p.tenant) ELSE format('Project %s-%s', p.tenant, p.k) END,
    CASE p.k
        WHEN 1 THEN 12345678901234567890.123456789012345678901234567890
        WHEN 2 THEN -0.000000000000000000000000000001
        WHEN 3 THEN 0
        WHEN 4 THEN NULL
        ELSE p.k * 1000.5 END,
    CASE p.k % 5
        WHEN 1 THEN interval '0'
        WHEN 2 THEN interval '-3 days -04:05:06'
        WHEN 3 THEN interval '1 year 2 mons 3 days 04:05:06.789'
        WHEN 4 THEN interval '-1 mons +2 days'
        ELSE NULL END,
    (CASE p.k % 4
        WHEN 1 THEN timestamptz '2025-03-30 01:30:00+01'
        WHEN 2 THEN timestamptz '2025-06-15 12:00:00-07:00'
        WHEN 3 THEN timestamptz '2025-12-31 23:59:59.999999+14'
        ELSE timestamptz '1999-12-31 23:30:00+05:30' END) + make_interval(days => (p.k - 1) / 4 * 7)
FROM seed.project p
ORDER BY p.id;

-- invoices: 1 or 2 per project; m numbers them within the tenant. The first of each tenant holds all 256 byte values.
CREATE TABLE seed.invoice AS
    SELECT p.tenant, p.id AS project_id,
        md5(format('invoice/%s/%s/%s', p.tenant, p.k, g.n))::uuid AS id,
        (row_number() OVER (PARTITION BY p.tenant ORDER BY p.k, g.n))::int AS m
    FROM seed.project p CROSS JOIN LATERAL generate_series(1, p.k % 2 + 1) AS g(n);

INSERT INTO public.invoices (id, project_id, number, total, issued_at, pdf)
SELECT i.id, i.project_id,
    format('INV-%s-%s', i.tenant, lpad(i.m::text, 4, '0')),
    CASE WHEN i.m = 3 THEN NULL ELSE round(i.m * 123.45 + i.tenant, 2) END,
    timestamptz '2025-02-01 10:00:00+00' + make_interval(days => i.m, hours => i.tenant),
    CASE WHEN i.m = 1 THEN (SELECT decode(string_agg(lpad(to_hex(b), 2, '0'), '' ORDER BY b), 'hex') FROM generate_series(0, 255) AS b)
         WHEN i.m = 2 THEN ''::bytea
         WHEN i.m % 3 = 0 THEN NULL
         ELSE convert_to(format(E'%%PDF-1.4\n%% invoice %s-%s\n', i.tenant, i.m), 'UTF8') END
FROM seed.invoice i
ORDER BY i.tenant, i.m;

INSERT INTO public.invoice_lines (invoice_id, line_no, description, amount)
SELECT i.id, g.l,
    CASE WHEN i.m = 1 AND g.l = 1 THEN E'Beratung für Müller\t– 5 h\n"inkl." Reise'
         ELSE format('Line %s of INV-%s-%s', g.l, i.tenant, i.m) END,
    CASE WHEN g.l = 2 THEN -5.00 ELSE round(g.l * 19.99 + i.m, 2) END
FROM seed.invoice i CROSS JOIN LATERAL generate_series(1, i.m % 3 + 1) AS g(l)
ORDER BY i.tenant, i.m, g.l;

-- documents: a tree per tenant (parent doc_no / 2), extra roots every 5th, and doc 3 pointing at the last,
-- higher-numbered document, so key order is not a valid insert order.
INSERT INTO public.documents (tenant_id, doc_no, title, body, parent_doc_no)
SELECT s.tenant, d.doc_no,
    CASE WHEN d.doc_no = 2 THEN E'Q3 "Report" – Ünïcode\\ 日本' ELSE format('Document %s-%s', s.tenant, d.doc_no) END,
    n.v,
    CASE WHEN d.doc_no = 1 OR d.doc_no = s.documents OR d.doc_no % 5 = 0 THEN NULL
         WHEN d.doc_no = 3 THEN s.documents
         ELSE d.doc_no / 2 END
FROM seed.spec s CROSS JOIN LATERAL generate_series(1, s.documents) AS d(doc_no)
JOIN seed.note n ON n.k = (d.doc_no - 1) % 10
ORDER BY s.tenant, d.doc_no;

INSERT INTO public.document_versions (tenant_id, doc_no, version, content)
SELECT d.tenant_id, d.doc_no, v.version,
    CASE WHEN v.version = 1 THEN E'first draft\nof ' || d.title ELSE format('version %s of document %s', v.version, d.doc_no) END
FROM public.documents d CROSS JOIN LATERAL generate_series(1, d.doc_no % 3 + 1) AS v(version)
ORDER BY d.tenant_id, d.doc_no, v.version;

-- employees: e = 1 reports to the last employee (the head, hired last), others to e / 2. One statement, so the
-- forward reference is checked at its end.
CREATE TABLE seed.employee AS
    SELECT s.tenant, s.employees AS size, g.e, (row_number() OVER (ORDER BY g.e, s.tenant))::int AS id
    FROM seed.spec s CROSS JOIN LATERAL generate_series(1, s.employees) AS g(e);

INSERT INTO public.employees (id, tenant_id, manager_id, name)
SELECT e.id, e.tenant, m.id,
    CASE e.e WHEN 1 THEN format('José Ñúñez %s', e.tenant) WHEN 2 THEN format(E'O''Brien\\Smith %s', e.tenant)
             ELSE format('Employee %s-%s', e.tenant, e.e) END
FROM seed.employee e
LEFT JOIN seed.employee m ON m.tenant = e.tenant
    AND m.e = CASE WHEN e.e = e.size THEN NULL WHEN e.e = 1 THEN e.size ELSE e.e / 2 END
ORDER BY e.id;

-- stores and staff: 3 staff per store; every store but the tenant's last is managed by its own first staff member.
-- The manager FK is deferrable, so stores go in first with their managers and the check waits for the commit.
SET CONSTRAINTS public.stores_manager_staff_fk DEFERRED;

CREATE TABLE seed.store AS
    SELECT s.tenant, s.stores AS size, g.st, (row_number() OVER (ORDER BY g.st, s.tenant))::int AS id
    FROM seed.spec s CROSS JOIN LATERAL generate_series(1, s.stores) AS g(st);

CREATE TABLE seed.staff AS
    SELECT st.tenant, st.id AS store_id, st.st, g.r, (row_number() OVER (ORDER BY g.r, st.st, st.tenant))::int AS id
    FROM seed.store st CROSS JOIN LATERAL generate_series(1, 3) AS g(r);

INSERT INTO public.stores (id, tenant_id, name, manager_staff_id)
SELECT st.id, st.tenant, format('Store %s-%s', st.tenant, st.st),
    CASE WHEN st.st < st.size THEN (SELECT f.id FROM seed.staff f WHERE f.store_id = st.id AND f.r = 1) END
FROM seed.store st
ORDER BY st.id;

INSERT INTO public.staff (id, tenant_id, store_id, name)
SELECT f.id, f.tenant, f.store_id, format('Staff %s-%s-%s', f.tenant, f.st, f.r)
FROM seed.staff f
ORDER BY f.id;

SET CONSTRAINTS public.stores_manager_staff_fk IMMEDIATE;

-- audit_log: rows a = 1 and a = 2 of each tenant are identical (no key tells them apart).
INSERT INTO public.audit_log (tenant_id, at, action, detail)
SELECT s.tenant,
    timestamptz '2025-01-01 00:00:00+00' + make_interval(hours => greatest(g.a, 2) * 7),
    (ARRAY['login', 'update', 'export', 'delete'])[1 + greatest(g.a, 2) % 4],
    CASE WHEN greatest(g.a, 2) % 5 = 0 THEN NULL
         ELSE jsonb_build_object('seq', greatest(g.a, 2), 'user', 'ünï ' || s.tenant, 'note', n.v) END
FROM seed.spec s CROSS JOIN LATERAL generate_series(1, s.audits) AS g(a)
JOIN seed.note n ON n.k = (greatest(g.a, 2) - 1) % 10
ORDER BY s.tenant, g.a;

-- events: odd ids in events_2025 (id 1 a microsecond before the boundary), even ids in events_2026 (id 2 on it).
INSERT INTO public.events (tenant_id, id, occurred_at, kind, payload)
SELECT s.tenant, g.id,
    CASE WHEN g.id % 2 = 1
         THEN timestamptz '2025-12-31 23:59:59.999999+00' - make_interval(days => (g.id - 1) * 5)
         ELSE timestamptz '2026-01-01 00:00:00+00' + make_interval(days => (g.id - 2) * 5) END,
    (ARRAY['created', 'updated', NULL])[1 + g.id % 3],
    CASE WHEN g.id % 4 = 0 THEN NULL ELSE jsonb_build_object('id', g.id, 'tenant', s.tenant, 'text', n.v) END
FROM seed.spec s CROSS JOIN LATERAL generate_series(1, s.events) AS g(id)
JOIN seed.note n ON n.k = (g.id - 1) % 10
ORDER BY s.tenant, g.id;

-- Payment methods and charges: method m has m % 3 + 2 charges; charge ids interleave the tenants.
CREATE TABLE seed.method AS
    SELECT s.tenant, g.m, md5(format('payment-method/%s/%s', s.tenant, g.m))::uuid AS id
    FROM seed.spec s CROSS JOIN LATERAL generate_series(1, s.methods) AS g(m);

INSERT INTO billing."Payment Methods" ("Id", tenant_id, "Card Holder", "Last4")
SELECT pm.id, pm.tenant,
    CASE pm.m WHEN 1 THEN format('José Müller %s', pm.tenant) WHEN 2 THEN 'O''Brien "Jr."' WHEN 3 THEN NULL
              ELSE format('Holder %s-%s', pm.tenant, pm.m) END,
    lpad(((pm.tenant * 1000 + pm.m * 37) % 10000)::text, 4, '0')
FROM seed.method pm
ORDER BY pm.tenant, pm.m;

INSERT INTO billing."Charges" (id, "Payment Method Id", amount, note)
SELECT row_number() OVER (ORDER BY pm.m, g.c, pm.tenant), pm.id,
    CASE WHEN g.c = 2 THEN -round(pm.m * 10.5, 2) ELSE round(pm.m * 100 + g.c * 0.99, 2) END,
    n.v
FROM seed.method pm CROSS JOIN LATERAL generate_series(1, pm.m % 3 + 2) AS g(c)
JOIN seed.note n ON n.k = (pm.m + g.c) % 10
ORDER BY 1;

-- Sequences continue after the explicit keys, as they would in a live database.
SELECT setval(pg_get_serial_sequence('public.customers', 'id'), (SELECT max(id) FROM public.customers));
SELECT setval(pg_get_serial_sequence('public.projects', 'id'), (SELECT max(id) FROM public.projects));
SELECT setval(pg_get_serial_sequence('public.employees', 'id'), (SELECT max(id) FROM public.employees));
SELECT setval(pg_get_serial_sequence('public.stores', 'id'), (SELECT max(id) FROM public.stores));
SELECT setval(pg_get_serial_sequence('public.staff', 'id'), (SELECT max(id) FROM public.staff));
SELECT setval(pg_get_serial_sequence('billing."Charges"', 'id'), (SELECT max(id) FROM billing."Charges"));

DROP SCHEMA seed CASCADE;

REFRESH MATERIALIZED VIEW public.tenant_stats;
""";
}
