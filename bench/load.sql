-- Loads the benchmark data set (bench/run.sh runs this with psql -v rows=N).
--
-- Tenants and their sizes (rows over all of a tenant's tables, tenants row not counted):
--   1        the big tenant: :rows
--   2        the small tenant: :rows / 10
--   3..6     four other tenants of :rows / 4 each (as much data again as tenant 1, so filtering is real)
--   7..26    twenty tiny tenants: :rows / 2000 each (at least 100)
-- Each tenant's rows split as customers 5 %, orders 20 %, order_items ~50 % (1-4 per order), events 25 %.
--
-- Rows of all tenants are interleaved in every table, as years of concurrent use leave them: row g of a
-- table goes to the tenant whose share of the table holds (g * 2147483647) mod n, a permutation of 0..n-1.
-- Content comes from random() after setseed, so every load with the same :rows is the same data.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET maintenance_work_mem = '1GB';
SET work_mem = '256MB';

BEGIN;
-- Tables created in the loading transaction skip WAL under wal_level = minimal.
\ir schema.sql
SELECT setseed(0.42);

CREATE TEMP TABLE plan ON COMMIT DROP AS
SELECT t AS tenant_id,
       greatest(CASE WHEN t = 1 THEN :rows::bigint
                     WHEN t = 2 THEN :rows::bigint / 10
                     WHEN t <= 6 THEN :rows::bigint / 4
                     ELSE :rows::bigint / 2000 END, 100) AS total
FROM generate_series(1, 26) t;

CREATE TEMP TABLE alloc ON COMMIT DROP AS
SELECT tenant_id,
       total / 20 AS c_cust, sum(total / 20) OVER w - total / 20 AS lo_cust,
       total / 5  AS c_ord,  sum(total / 5)  OVER w - total / 5  AS lo_ord,
       total / 4  AS c_evt,  sum(total / 4)  OVER w - total / 4  AS lo_evt
FROM plan
WINDOW w AS (ORDER BY tenant_id);

SELECT sum(c_cust) AS n_cust, array_agg(lo_cust ORDER BY tenant_id)::text AS b_cust,
       sum(c_ord)  AS n_ord,  array_agg(lo_ord  ORDER BY tenant_id)::text AS b_ord,
       sum(c_evt)  AS n_evt,  array_agg(lo_evt  ORDER BY tenant_id)::text AS b_evt
FROM alloc \gset

INSERT INTO tenants
SELECT tenant_id, 'Tenant ' || tenant_id || ' GmbH',
       (ARRAY['free', 'team', 'business', 'enterprise'])[1 + tenant_id % 4],
       timestamptz '2018-01-01 00:00:00+00' + tenant_id * interval '9 days'
FROM plan;

INSERT INTO countries VALUES
    ('DE', 'Germany'), ('AT', 'Austria'), ('CH', 'Switzerland'), ('FR', 'France'), ('NL', 'Netherlands'),
    ('GB', 'United Kingdom'), ('US', 'United States'), ('ES', 'Spain'), ('IT', 'Italy'), ('PL', 'Poland');

-- customers: ~220 bytes of COPY text a row
INSERT INTO customers
SELECT g, tenant_id,
       CASE WHEN random() < 0.8 THEN 'CRM-' || lpad(g::text, 9, '0') END,
       first || ' ' || last,
       lower(first) || '.' || lower(last) || g || '@' || (ARRAY['example.com', 'mail.test', 'corp.example', 'webmail.test'])[1 + (g % 4)],
       CASE WHEN random() < 0.7 THEN '+49 ' || (150000000 + floor(random() * 849999999))::bigint END,
       (1 + floor(random() * 220))::int || ' ' || (ARRAY['Hauptstrasse', 'Bahnhofstrasse', 'Gartenweg', 'Schillerstrasse', 'Lindenallee',
           'Market Street', 'Church Road', 'Rue de la Paix', 'Via Roma', 'Kerkstraat'])[1 + floor(random() * 10)::int],
       (ARRAY['Berlin', 'Hamburg', 'Munich', 'Cologne', 'Vienna', 'Zurich', 'Paris', 'Amsterdam', 'London', 'Madrid', 'Milan',
           'Warsaw', 'Leipzig', 'Graz', 'Lyon'])[1 + floor(random() * 15)::int],
       (ARRAY['DE', 'DE', 'DE', 'AT', 'CH', 'FR', 'NL', 'GB', 'US', 'ES', 'IT', 'PL'])[1 + floor(random() * 12)::int],
       timestamptz '2019-01-01 00:00:00+00' + random() * interval '1800 days',
       jsonb_build_object(
           'newsletter', random() < 0.3,
           'segment', (ARRAY['smb', 'mid-market', 'enterprise', 'consumer'])[1 + floor(random() * 4)::int],
           'lifetime_value', round((random() * 12000)::numeric, 2),
           'tags', jsonb_build_array((ARRAY['vip', 'b2b', 'churn-risk', 'promo', 'beta'])[1 + floor(random() * 5)::int],
                                     'cohort-' || (2019 + floor(random() * 6))::int),
           'locale', (ARRAY['de-DE', 'en-GB', 'fr-FR', 'en-US'])[1 + floor(random() * 4)::int])
FROM (SELECT g, width_bucket(((g - 1) * 2147483647) % :n_cust, :'b_cust'::bigint[]) AS tenant_id,
             (ARRAY['Anna', 'Ben', 'Clara', 'David', 'Emma', 'Felix', 'Greta', 'Hugo', 'Ida', 'Jonas', 'Lena', 'Max', 'Nora',
                 'Oskar', 'Paula', 'Quentin', 'Rosa', 'Simon', 'Tara', 'Umut', 'Vera', 'Wim', 'Yara', 'Zoe'])[1 + floor(random() * 24)::int] AS first,
             (ARRAY['Mueller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Smith',
                 'Dubois', 'Rossi', 'de Vries', 'Kowalski', 'Garcia', 'Novak', 'Jensen', 'Brown', 'Martin'])[1 + floor(random() * 20)::int] AS last
      FROM generate_series(1::bigint, :n_cust) g) s;

-- Customer k (0-based) of each tenant, so orders and events reference their own tenant's customers.
CREATE TEMP TABLE cust_rank ON COMMIT DROP AS
SELECT tenant_id, (row_number() OVER (PARTITION BY tenant_id ORDER BY id) - 1) AS k, id FROM customers;
CREATE INDEX ON cust_rank (tenant_id, k);
ANALYZE cust_rank;

-- orders: ~280 bytes a row
INSERT INTO orders
SELECT s.g, s.tenant_id, c.id,
       'SO-' || s.tenant_id || '-' || lpad(s.k::text, 8, '0'),
       (ARRAY['pending', 'paid', 'paid', 'shipped', 'delivered', 'delivered', 'delivered', 'cancelled', 'refunded'])[1 + floor(random() * 9)::int],
       (ARRAY['EUR', 'EUR', 'EUR', 'USD', 'GBP', 'CHF'])[1 + floor(random() * 6)::int],
       round((5 + random() * 995)::numeric, 2),
       s.created_at,
       CASE WHEN random() < 0.7 THEN s.created_at + random() * interval '20 days' END,
       CASE WHEN random() < 0.4 THEN
           (ARRAY['Please deliver', 'Leave at the door', 'Gift wrap', 'Call before delivery', 'Invoice to accounting',
               'Urgent', 'Customer asked for'])[1 + floor(random() * 7)::int] || ' ' ||
           (ARRAY['before noon', 'with the receipt', 'in two parcels', 'to the back entrance', 'on Friday', 'at reception'])[1 + floor(random() * 6)::int] ||
           ' (ticket #' || (10000 + floor(random() * 90000))::int || ')' END,
       jsonb_build_object('name', 'Recipient ' || s.g, 'street', (1 + floor(random() * 220))::int || ' Lindenallee',
                          'zip', lpad(floor(random() * 99999)::int::text, 5, '0'), 'city', 'Berlin', 'country', 'DE',
                          'method', (ARRAY['standard', 'express', 'pickup'])[1 + floor(random() * 3)::int],
                          'tracking', CASE WHEN random() < 0.6 THEN upper(substr(md5(s.g::text), 1, 18)) END)
FROM (SELECT g, tenant_id, h - b[tenant_id] AS k,
             timestamptz '2019-06-01 00:00:00+00' + random() * interval '1600 days' AS created_at
      FROM (SELECT g, ((g - 1) * 2147483647) % :n_ord AS h, :'b_ord'::bigint[] AS b,
                   width_bucket(((g - 1) * 2147483647) % :n_ord, :'b_ord'::bigint[]) AS tenant_id
            FROM generate_series(1::bigint, :n_ord) g) p) s
JOIN alloc a USING (tenant_id)
JOIN cust_rank c ON c.tenant_id = s.tenant_id AND c.k = (s.k * 7919) % a.c_cust
ORDER BY s.g;

-- order_items: 1-4 lines an order, ~130 bytes a row; no tenant column (in scope through orders)
INSERT INTO order_items
SELECT (o.id - 1) * 4 + n, o.id, n,
       'SKU-' || lpad(floor(random() * 99999)::int::text, 5, '0') || '-' || (ARRAY['BLK', 'WHT', 'RED', 'BLU', 'GRN'])[1 + floor(random() * 5)::int],
       (ARRAY['Classic', 'Premium', 'Organic', 'Compact', 'Deluxe', 'Eco', 'Pro'])[1 + floor(random() * 7)::int] || ' ' ||
       (ARRAY['coffee beans 1 kg', 'desk lamp', 'wool socks', 'water bottle', 'notebook A5', 'USB-C cable 2 m', 'backpack',
           'tea sampler', 'yoga mat', 'phone case'])[1 + floor(random() * 10)::int] || ', size ' ||
       (ARRAY['S', 'M', 'L', 'XL'])[1 + floor(random() * 4)::int],
       1 + floor(random() * 5)::int,
       round((1 + random() * 199)::numeric, 2),
       CASE WHEN random() < 0.2 THEN round((random() * 30)::numeric, 2) ELSE 0 END,
       CASE WHEN random() < 0.9 THEN jsonb_build_object('rate', (ARRAY[19, 7, 0, 20])[1 + floor(random() * 4)::int], 'code', 'STD') END
FROM orders o, generate_series(1, 1 + (o.id % 4)::int) n
ORDER BY o.id, n;

-- events: ~300 bytes a row
INSERT INTO events
SELECT s.g, s.tenant_id, CASE WHEN s.with_customer THEN c.id END,
       (ARRAY['page_view', 'page_view', 'page_view', 'login', 'logout', 'search', 'add_to_cart', 'checkout', 'email_open', 'api_call'])[1 + floor(random() * 10)::int],
       timestamptz '2022-01-01 00:00:00+00' + random() * interval '1000 days',
       ('10.' || floor(random() * 255)::int || '.' || floor(random() * 255)::int || '.' || (1 + floor(random() * 253))::int)::inet,
       (ARRAY['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
              'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
              'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
              'okhttp/4.12.0', 'python-requests/2.32.3'])[1 + floor(random() * 5)::int],
       jsonb_build_object(
           'path', (ARRAY['/app/dashboard', '/app/orders', '/app/orders/new', '/app/customers', '/app/settings', '/api/v2/items'])[1 + floor(random() * 6)::int]
                   || '?page=' || (1 + floor(random() * 20))::int,
           'duration_ms', floor(random() * 2500)::int,
           'session', substr(md5((s.g * 31)::text), 1, 20),
           'referrer', CASE WHEN random() < 0.3 THEN 'https://www.example.com/landing/' || floor(random() * 50)::int END,
           'props', jsonb_build_object('ab_test', (ARRAY['A', 'B'])[1 + floor(random() * 2)::int], 'screen', '1920x1080', 'ok', random() < 0.97))
FROM (SELECT g, tenant_id, h - b[tenant_id] AS k, random() < 0.7 AS with_customer
      FROM (SELECT g, ((g - 1) * 2147483647) % :n_evt AS h, :'b_evt'::bigint[] AS b,
                   width_bucket(((g - 1) * 2147483647) % :n_evt, :'b_evt'::bigint[]) AS tenant_id
            FROM generate_series(1::bigint, :n_evt) g) p) s
JOIN alloc a USING (tenant_id)
JOIN cust_rank c ON c.tenant_id = s.tenant_id AND c.k = (s.k * 104729) % a.c_cust
ORDER BY s.g;

-- The identity sequences continue after the loaded keys, as an application's would.
SELECT setval(pg_get_serial_sequence('customers', 'id'), max(id)) FROM customers;
SELECT setval(pg_get_serial_sequence('orders', 'id'), max(id)) FROM orders;
SELECT setval(pg_get_serial_sequence('order_items', 'id'), max(id)) FROM order_items;
SELECT setval(pg_get_serial_sequence('events', 'id'), max(id)) FROM events;
COMMIT;

-- What a real application has: an index on every tenant column and every FK column, and the FKs themselves.
CREATE INDEX customers_tenant_id_idx ON customers (tenant_id);
CREATE INDEX orders_tenant_id_idx ON orders (tenant_id);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);
CREATE INDEX events_tenant_id_idx ON events (tenant_id);
CREATE INDEX events_customer_id_idx ON events (customer_id);
ALTER TABLE customers ADD CONSTRAINT customers_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
                      ADD CONSTRAINT customers_country_code_fkey FOREIGN KEY (country_code) REFERENCES countries (code);
ALTER TABLE orders ADD CONSTRAINT orders_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
                   ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE order_items ADD CONSTRAINT order_items_order_id_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE;
ALTER TABLE events ADD CONSTRAINT events_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id),
                   ADD CONSTRAINT events_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);
VACUUM (FREEZE, ANALYZE);
CHECKPOINT;
