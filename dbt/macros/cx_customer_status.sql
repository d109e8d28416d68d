{#- The one customer-status rule, used wherever a company's status on a day is published
    (int_customer_months for day 1 of each month, dim_customers for the status date):
    a company is a customer on `day` when a won contract covers it (`covered`, a boolean
    expression). Being covered is known in advance (the contract is signed); not being
    covered is final only once the CRM data has wholly passed the day (`day` on or before
    `decided_through`, int_source_horizons.hubspot_decided_through_date), because a renewal
    can still close on that very day. Returns true, false, or null (not decided yet). -#}
{% macro cx_customer_status(covered, day, decided_through) -%}
    case
        when {{ covered }} then true
        when {{ day }} <= {{ decided_through }} then false
    end
{%- endmacro %}

{#- Whether the contract row `contracts` covers `day`: [contract_start_date, contract_end_date). -#}
{% macro cx_contract_covers(day, contracts='contracts') -%}
    ({{ contracts }}.contract_start_date <= {{ day }} and {{ day }} < {{ contracts }}.contract_end_date)
{%- endmacro %}
