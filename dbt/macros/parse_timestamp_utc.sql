{#- An ISO-8601 string as a UTC instant (timestamp with time zone), or null when it does not
    parse. Strings with an offset ("Z", "-05:00", "+0100") keep their instant; strings without
    one are read as UTC, never in the session's time zone. -#}
{% macro parse_timestamp_utc(column) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc')(column)) }}
{%- endmacro %}

{% macro default__parse_timestamp_utc(column) -%}
    {%- set text = 'trim(' ~ column ~ ')' -%}
    {#- the shape, a real date, and hours/minutes/seconds in range: only then cast -#}
    {%- set valid -%}
        {{ is_calendar_date(text) }}
        and substr({{ text }}, 12, 2) between '00' and '23'
        and substr({{ text }}, 15, 2) between '00' and '59'
        and (substr({{ text }}, 17, 1) <> ':' or substr({{ text }}, 18, 2) between '00' and '59')
    {%- endset -%}
    case
        when
            {{ text }}
            ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$'
            and {{ valid }}
            then cast({{ text }} as timestamp with time zone)
        when
            {{ text }} ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$'
            and {{ valid }}
            then cast({{ text }} as timestamp) at time zone 'UTC'
    end
{%- endmacro %}

{% macro duckdb__parse_timestamp_utc(column) -%}
    case
        when
            regexp_matches(
                trim({{ column }}), '[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$'
            )
            then try_cast(trim({{ column }}) as timestamp with time zone)
        else timezone('UTC', try_cast(trim({{ column }}) as timestamp))
    end
{%- endmacro %}

{#- Spark casts ISO-8601 text with its offset to an instant; text without one is read as a
    UTC wall clock (to_utc_timestamp), not in the session's time zone. -#}
{% macro spark__parse_timestamp_utc(column) -%}
    case
        when
            trim({{ column }})
            rlike '[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?[[:space:]]*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$'
            then try_cast(trim({{ column }}) as timestamp)
        else to_utc_timestamp(try_cast(trim({{ column }}) as timestamp_ntz), 'UTC')
    end
{%- endmacro %}
