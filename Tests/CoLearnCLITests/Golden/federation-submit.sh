#!/bin/bash
# Submits federation demo's jobs, as `colearn launch slurm --submit` does.
set -euo pipefail
server=$(sbatch --parsable /shared/fed/slurm/server.sbatch)
server=${server%%;*}
participants=$(sbatch --parsable --dependency=after:$server --export=ALL,COLEARN_SERVER_JOB=$server /shared/fed/slurm/participants.sbatch)
participants=${participants%%;*}
collect=$(sbatch --parsable --dependency=afterany:$participants /shared/fed/slurm/collect.sbatch)
echo "server job $server, participants job $participants, collect job ${collect%%;*}"
