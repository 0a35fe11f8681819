# Exposes `users.full_name`, computed by an SQL function created by your
# migrations (not VOLATILE):
#   CREATE FUNCTION public.user_full_name(u users) RETURNS text STABLE
#     LANGUAGE sql AS $$ SELECT u.first_name || ' ' || u.last_name $$;
resource "hasura_computed_field" "full_name" {
  table = "users"
  name  = "full_name"
  function = {
    name = "user_full_name"
  }
  comment = "First and last name"
}
