-- +goose Up
-- The words of a search of the embedded Memory Bank as a tsquery matching any
-- of them. IMMUTABLE, so a search planned with its text folds it to a constant
-- and Postgres estimates from the column's statistics how many memories the
-- words are in: few, it reads their matches through the full-text index;
-- many, it reads the scope's newest memories until enough match. The lexemes
-- are stemmed already: they are cast straight to a tsquery, because stemming a
-- stem again can change it.
-- +goose StatementBegin
CREATE FUNCTION custom_gpt_any_word(words text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(quote_literal(lexeme), ' | '), '')::tsquery
    FROM unnest(tsvector_to_array(to_tsvector('english'::regconfig, words))) AS lexeme
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION custom_gpt_any_word(text);
