-- Multi-tenant schema of the benchmark (bench/run.sh): the shape a typical SaaS database has.
--   tenants        root table, one row per tenant
--   countries      shared reference data (no tenant column): never backed up
--   customers      direct (tenant_id), jsonb attributes, FK to countries
--   orders         direct, FK to customers, jsonb shipping address, free text note
--   order_items    indirect: no tenant column, in scope through order_id -> orders
--   events         direct, an activity log with jsonb payloads; customer_id optional
-- Tables are created without secondary indexes and foreign keys; load.sql adds them after the rows,
-- as a bulk load would, and they are all there when the benchmark runs.
CREATE TABLE tenants (
    id          bigint PRIMARY KEY,
    name        text NOT NULL,
    plan        text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE countries (
    code        char(2) PRIMARY KEY,
    name        text NOT NULL
);

CREATE TABLE customers (
    id            bigint PRIMARY KEY,
    tenant_id     bigint NOT NULL,
    external_ref  text,
    name          text NOT NULL,
    email         text NOT NULL,
    phone         text,
    street        text,
    city          text,
    country_code  char(2),
    created_at    timestamptz NOT NULL,
    attrs         jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE orders (
    id            bigint PRIMARY KEY,
    tenant_id     bigint NOT NULL,
    customer_id   bigint NOT NULL,
    number        text NOT NULL,
    status        text NOT NULL,
    currency      char(3) NOT NULL,
    total         numeric(12,2) NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz,
    note          text,
    shipping      jsonb
);

CREATE TABLE order_items (
    id            bigint PRIMARY KEY,
    order_id      bigint NOT NULL,
    line_no       int NOT NULL,
    sku           text NOT NULL,
    description   text NOT NULL,
    quantity      int NOT NULL,
    unit_price    numeric(10,2) NOT NULL,
    discount_pct  numeric(5,2) NOT NULL DEFAULT 0,
    tax           jsonb
);

CREATE TABLE events (
    id            bigint PRIMARY KEY,
    tenant_id     bigint NOT NULL,
    customer_id   bigint,
    kind          text NOT NULL,
    occurred_at   timestamptz NOT NULL,
    source_ip     inet,
    user_agent    text,
    payload       jsonb NOT NULL
);
