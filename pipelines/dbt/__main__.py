"""Run dbt against the warehouse by hand: ``python -m pipelines.dbt build -s +customer_360``.

Sets the profile's variables (warehouse path, key, httpfs path) for the dbt process only.
"""

import sys

from pipelines.dbt.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
