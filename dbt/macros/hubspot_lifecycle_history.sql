{#- The base model of a HubSpot lifecycle stage history table (one row per raw entry):
    parsed, with `_quarantine_reason` (null = usable), `_dedup_rank` and `_source_key`.
    `object_key` names the staged id column (customer_id / contact_id); `parent_model` and
    `parent_label` the staged objects an entry must belong to (else it is an orphan until its
    record is staged). A cleared value ("") is kept: it is how HubSpot records a stage moved
    back (is_cleared, lifecycle_stage null). A value HubSpot does not define (a custom stage
    id, a typo) is quarantined as an unknown lifecycle stage (seed hubspot_lifecycle_stages). -#}
{% macro hubspot_lifecycle_history_base(table_name, object_key, parent_model, parent_label) %}
{%- set raw = source('raw_hubspot', table_name) -%}
{%- set ts, value = adapter.quote('timestamp'), adapter.quote('value') -%}
with

source as (
    select * from {{ raw }}
),

stages as (
    select lifecycle_stage from {{ ref('hubspot_lifecycle_stages') }}
),

parents as (
    select {{ object_key }} from {{ ref(parent_model) }}
),

renamed as (
    select
        ---------- ids
        nullif(trim(object_id), '') || ':' || {{ ts }} || ':' || {{ value }} as lifecycle_change_id,
        nullif(trim(object_id), '') as {{ object_key }},
        ---------- strings
        nullif(lower(trim({{ value }})), '') as lifecycle_stage,
        trim({{ value }}) = '' as is_cleared,
        nullif(trim(source_type), '') as source_type,
        nullif(trim({{ column_or_null(raw, 'source_id', 'varchar') }}), '') as source_id,
        cast({{ column_or_null(raw, 'updated_by_user_id', 'bigint') }} as {{ dbt.type_string() }}) as updated_by_user_id,
        ---------- timestamps
        {{ parse_timestamp_utc(ts) }} as changed_at,
        ---------- raw values, for validation
        {{ ts }} as raw_changed_at,
        {{ value }} as raw_value,
        ---------- metadata
        _dlt_load_id,
        _dlt_id
    from source
),

validated as (
    select
        renamed.*,
        case
            when renamed.{{ object_key }} is null or renamed.raw_changed_at is null or renamed.raw_value is null
                then 'missing primary key'
            when {{ is_unparseable('renamed.raw_changed_at', 'renamed.changed_at') }} or renamed.changed_at is null
                then 'unparseable timestamp'
            when not renamed.is_cleared and stages.lifecycle_stage is null then 'unknown lifecycle stage'
            when parents.{{ object_key }} is null then 'orphan reference: {{ parent_label }}'
        end as _quarantine_reason
    from renamed
    left join stages
        on renamed.lifecycle_stage = stages.lifecycle_stage
    left join parents
        on renamed.{{ object_key }} = parents.{{ object_key }}
),

ranked as (
    select
        *,
        {{ dedup_rank(['lifecycle_change_id']) }} as _dedup_rank,
        {{ source_key(['lifecycle_change_id']) }} as _source_key
    from validated
)

select * from ranked
{% endmacro %}
