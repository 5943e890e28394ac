#!/usr/bin/env bash
# Regenerates the initial migration scripts from the EF Core model. Only for the first schema,
# before any release: later changes are new migrations (see docs/contributing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build src/gatehouse-portal -v quiet --nologo >/dev/null
for engine in sqlite postgresql; do
  dotnet src/gatehouse-portal/bin/Debug/net10.0/gatehouse-portal.dll schema-script "$engine" \
    > "src/Gatehouse.Portal/Storage/Migrations/0001_Initial.$engine.sql"
done
echo "Wrote src/Gatehouse.Portal/Storage/Migrations/0001_Initial.{sqlite,postgresql}.sql"
