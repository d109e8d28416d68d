{#- The raw-table registry (`vars: raw_tables` in dbt_project.yml) as a list of its entries,
    in declaration order, each with `table` ("raw_zendesk.tickets"), `source_name` and
    `table_name` added and the fields it does not set as none (false, []). `having`: keep
    only the entries that set that field. A var, not source `meta`: a ref must be known when
    dbt parses the model, and dbt parses models before it reads the sources YAML. -#}
{% macro raw_tables(having=none) %}
    {%- set entries = [] -%}
    {%- for table, entry in var('raw_tables').items() -%}
        {%- if having is none or entry.get(having) -%}
            {%- set source_name, table_name = table.split('.') -%}
            {%- set full = {
                'base_model': none, 'staging_model': none, 'raw_key': none, 'staged_key': none,
                'parent': none, 'required_columns': [], 'quarantine_share': false, 'exploded': none,
            } -%}
            {%- do full.update(entry) -%}
            {%- do full.update({'table': table, 'source_name': source_name, 'table_name': table_name}) -%}
            {%- do entries.append(full) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(entries) }}
{% endmacro %}


{#- The quarantine's `source_table` values: the registry's tables that have a base model. -#}
{% macro quarantined_tables() %}
    {{ return(raw_tables('base_model') | map(attribute='table') | list) }}
{% endmacro %}
