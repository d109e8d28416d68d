{#- A "YYYY-MM-DD" string as a date. BambooHR's empty dates ("0000-00-00" or "") and blanks
    are null; anything else that is not a real calendar date is null too (callers flag it
    with is_unparseable). -#}
{% macro parse_vendor_date(column) -%}
    {{ return(adapter.dispatch('parse_vendor_date')(column)) }}
{%- endmacro %}

{% macro default__parse_vendor_date(column) -%}
    case
        when
            trim({{ column }}) ~ '^\d{4}-\d{2}-\d{2}$'
            and {{ is_calendar_date('trim(' ~ column ~ ')') }}
            then cast(trim({{ column }}) as date)
    end
{%- endmacro %}

{% macro duckdb__parse_vendor_date(column) -%}
    case
        when trim({{ column }}) not in ('', '0000-00-00')
            then try_cast(trim({{ column }}) as date)
    end
{%- endmacro %}

{% macro spark__parse_vendor_date(column) -%}
    case
        when trim({{ column }}) not in ('', '0000-00-00')
            then try_cast(trim({{ column }}) as date)
    end
{%- endmacro %}
