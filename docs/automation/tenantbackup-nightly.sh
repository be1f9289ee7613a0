#!/usr/bin/env bash
# Nightly backup of every tenant: back up, verify (quick), then prune by the retention policy.
# Exits 0 when every tenant was backed up and verified and the prune succeeded, 1 otherwise.
# Log lines go to stderr (the journal, under systemd).
#
# Settings, from the environment (see tenantbackup-nightly.env.example):
#   PGHOST, PGPORT, PGDATABASE, PGUSER  the database, as for psql; the password comes from ~/.pgpass or PGPASSFILE
#   TENANTBACKUP_REPOSITORY             the repository folder
#   TENANTBACKUP_ROOT_TABLE             the table that lists the tenants (default: tenants)
#   TENANTBACKUP_ROOT_KEY               its key column, the value tenant_id holds (default: id)
set -euo pipefail

root_table="${TENANTBACKUP_ROOT_TABLE:-tenants}"
root_key="${TENANTBACKUP_ROOT_KEY:-id}"
: "${TENANTBACKUP_REPOSITORY:?set TENANTBACKUP_REPOSITORY to the repository folder}"

log() {
    printf '%s tenantbackup-nightly: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

# quote_ident() in SQL keeps a schema-qualified or odd table name from being read as SQL.
list_tenants() {
    psql --no-psqlrc --quiet --tuples-only --no-align --set ON_ERROR_STOP=1 \
        --variable "root_table=${root_table}" --variable "root_key=${root_key}" <<'SQL'
SELECT format('SELECT %I::text FROM %s ORDER BY 1', :'root_key',
              (SELECT string_agg(quote_ident(part), '.') FROM unnest(string_to_array(:'root_table', '.')) AS part))
\gexec
SQL
}

mapfile -t tenants < <(list_tenants)
if [[ ${#tenants[@]} -eq 0 ]]; then
    log "no tenants found in ${root_table}; nothing to do"
    exit 1
fi
log "backing up ${#tenants[@]} tenant(s) into ${TENANTBACKUP_REPOSITORY}"

failed=()
for tenant in "${tenants[@]}"; do
    # One tenant's failure must not stop the others: each step is checked, not left to set -e.
    rc=0
    result="$(tenantbackup backup --tenant "${tenant}" --repository "${TENANTBACKUP_REPOSITORY}" \
        --message "nightly" --json)" || rc=$?
    if [[ ${rc} -ne 0 ]]; then
        log "tenant ${tenant}: backup failed (exit ${rc})"
        failed+=("${tenant}")
        continue
    fi

    # The backup's id is the first "id" field of the JSON object; no jq needed.
    id="$(sed -n 's/^[[:space:]]*"id":[[:space:]]*"\([^"]*\)".*/\1/p' <<<"${result}" | head -n 1)"
    if [[ -z "${id}" ]]; then
        log "tenant ${tenant}: backup printed no id"
        failed+=("${tenant}")
        continue
    fi

    if tenantbackup verify "${id}" --repository "${TENANTBACKUP_REPOSITORY}" --quick >/dev/null; then
        log "tenant ${tenant}: backup ${id} verified"
    else
        log "tenant ${tenant}: backup ${id} failed verification (exit $?)"
        failed+=("${tenant}")
    fi
done

# Retention runs even when a tenant failed: its newest valid backup is never removed without --force.
if tenantbackup prune --repository "${TENANTBACKUP_REPOSITORY}" \
        --keep-daily 7 --keep-weekly 4 --keep-monthly 12 >/dev/null; then
    log "prune done"
else
    log "prune failed (exit $?)"
    failed+=("(prune)")
fi

if [[ ${#failed[@]} -gt 0 ]]; then
    log "FAILED: ${failed[*]}"
    exit 1
fi
log "all ${#tenants[@]} tenant(s) backed up and verified"
