"""Print the README's rules table: python -m layerlens.suggest.rules"""

from layerlens.suggest.rules import rules_table

print(rules_table(), end="")
