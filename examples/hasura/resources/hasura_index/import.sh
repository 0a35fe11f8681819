# <source>.<schema>.<table>.<index>
terraform import hasura_index.users_email default.public.users.users_email_lower_key

# <schema>.<table>.<index> (source `default`)
terraform import hasura_index.users_org public.users.users_org_id_idx
