# <source>.<schema>.<table>
terraform import hasura_tracked_table.orders default.public.orders
