-- One row per ticket id in raw (staged or not): the newest dlt load that wrote the ticket or
-- any of its audits. The incremental ticket models rebuild the tickets loaded after the
-- newest load they hold.
{{ zendesk_ticket_loads() }}
