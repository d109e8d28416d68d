{#- Every raw policy metric (target per metric and priority) of an SLA policy with its policy
    id, `_quarantine_reason` (null = usable) and `_dedup_rank`. Key: the policy, the metric
    and the priority. -#}
with

source as (
    select * from {{ source('raw_zendesk', 'sla_policies__policy_metrics') }}
),

policies as (
    select
        _dlt_id,
        id as sla_policy_id,
        updated_at,
        _dlt_load_id
    from {{ source('raw_zendesk', 'sla_policies') }}
),

staged_policies as (
    select sla_policy_id from {{ ref('stg_zendesk__sla_policies') }}
),

renamed as (
    select
        ---------- ids
        policies.sla_policy_id,
        ---------- strings
        lower(trim(source.metric)) as metric,
        lower(trim(source.priority)) as priority,
        ---------- numerics
        cast(source.target as integer) as target_minutes,
        ---------- booleans
        cast(source.business_hours as boolean) as business_hours,
        ---------- timestamps
        cast(policies.updated_at as {{ type_timestamp_tz() }}) as policy_updated_at,
        ---------- metadata
        policies._dlt_load_id,
        source._dlt_id
    from source
    left join policies
        on source._dlt_parent_id = policies._dlt_id
),

validated as (
    select
        renamed.*,
        case
            when
                renamed.sla_policy_id is null
                or renamed.metric is null
                or renamed.priority is null
                then 'missing primary key'
            when staged_policies.sla_policy_id is null then 'orphan reference: sla policy'
            when renamed.target_minutes is null or renamed.target_minutes <= 0 then 'invalid target'
        end as _quarantine_reason
    from renamed
    left join staged_policies
        on renamed.sla_policy_id = staged_policies.sla_policy_id
),

ranked as (
    select
        *,
        {{ dedup_rank(['sla_policy_id', 'metric', 'priority'], 'policy_updated_at desc nulls last') }}
            as _dedup_rank,
        {{ source_key(['sla_policy_id', 'metric', 'priority']) }} as _source_key
    from validated
)

select * from ranked
