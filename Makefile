# The verbs a person types. Each installs what it needs first, so on a fresh
# clone one command is enough.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
# Node 20 is end-of-life; jsii prints a large banner on every run without this.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 16,18,20

# Bytecode is compiled on first import and kept, not compiled for every file at install:
# pip would compile all 2,137 modules of the provider bindings (about 35 s of CPU on the
# critical path of a fresh clone's `make test`) where the fast loader imports a few dozen.
# pip reads a no- option's variable inverted: PIP_NO_COMPILE=0 is --no-compile (measured:
# `pipenv sync --dev` 78 s -> 28 s). Python may then write the caches it compiles (a machine
# that sets PYTHONDONTWRITEBYTECODE would compile every import again in every process).
unexport PYTHONDONTWRITEBYTECODE
NO_COMPILE := PIP_NO_COMPILE=0
PIPENV := python3 -m pipenv
# Inside `pipenv shell` or `pipenv run` (PIPENV_ACTIVE) the project's virtualenv is
# first on PATH already, and its python3 has no pipenv: run commands directly.
RUN := $(if $(PIPENV_ACTIVE),,$(PIPENV) run)
# The project's own interpreter (PIPENV_VENV_IN_PROJECT: pipenv's virtualenv is .venv), for
# every Python entry point instead of `pipenv run`: pipenv sets PYTHONDONTWRITEBYTECODE=1 for
# what it runs (pipenv/environments.py), so with the no-compile install above every process
# (each test worker, deploy, emulator and checkov run) compiled all it imports again. Measured
# side by side on one machine: the provider's usual import 88 s without bytecode, 27 s with it;
# `make test` on a clean clone took 28 min of which most was that compiling.
PY := .venv/bin/python
ENVIRONMENT ?= dev
# local = the embedded emulator (no AWS account needed); aws = the account in your credentials
DEPLOY_TARGET ?= local
# CONFIG=<file>: any settings file instead of config/$(ENVIRONMENT).toml
DEPLOY := $(PY) -m tools.deploy --environment $(ENVIRONMENT) --target $(DEPLOY_TARGET) $(if $(CONFIG),--config $(CONFIG))
# Where `make plan` saves both stacks' plans and summary.md, and `make apply-plan` reads them.
PLAN_DIR ?= build/plans/$(ENVIRONMENT)

.PHONY: help install synth validate test test-prod lint deploy bootstrap-ci plan apply-plan drift recover-state destroy retire-legacy-buckets emulator-start emulator-stop bench mutate

help: ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.venv/.installed: Pipfile.lock
	@python3 -m pipenv --version >/dev/null 2>&1 || python3 -m pip install --quiet pipenv
	$(NO_COMPILE) $(PIPENV) sync --dev
	@touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: ## install the locked Python and npm dependencies (both at once)
	@$(MAKE) --no-print-directory -j2 .venv/.installed node_modules/.installed

synth: install ## synthesize every stack into cdktf.out/stacks/<stack>/cdk.tf.json (reused when nothing changed)
	$(PY) -m tools.synth

validate: synth ## terraform init + validate every synthesized stack (offline with TF_PROVIDER_MIRROR)
	$(PY) -m tools.terraform validate

lint: install ## ruff (lint + format check) and mypy --strict
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy

# Five workers on two cores: the three integration groups (each with its own deployment,
# mostly waiting on the provider's own pacing) run beside everything else on two more
# (tests/conftest.py groups them). With one worker for the rest, a core idled whenever the
# groups waited together: 171 % CPU over a clean clone's run. mypy (about 90 s of one core on a fresh clone) runs
# beside the tests at low priority, in the gaps the integration groups leave; its
# report follows the tests' and either failing fails the target.
test: install ## lint, types and every test (unit, snapshot, security, validate, integration) with 100% coverage
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	@mkdir -p build
	@(nice -n 10 $(RUN) mypy > build/mypy.log 2>&1; echo $$? > build/mypy.rc) & mypy=$$!; \
	$(PY) -m pytest -n 5 -m "not prod_emulator" --durations=25 --junitxml=build/test-report.xml --cov --cov-report=term-missing --cov-fail-under=100; \
	tests=$$?; wait $$mypy; echo "mypy:"; cat build/mypy.log; \
	test "$$tests" -eq 0 && test "$$(cat build/mypy.rc)" -eq 0

test-prod: install ## deploy the shipped prod settings to a fresh emulator and read them back (minutes; not in `make test`)
	$(PY) -m pytest -p no:cacheprovider --no-cov -m prod_emulator tests/prod

# MUTATE_SINCE=<git ref>: only the mutants on lines changed since that ref (pull requests).
# MUTATE_MODULES="<glob> ...": only those listed modules (the nightly job's shards).
mutate: install ## mutation score of the listed modules against the fast tests (tools/mutate.py; long, not in `make test`)
	$(PY) -m tools.mutate $(if $(MUTATE_SINCE),--changed-since $(MUTATE_SINCE)) $(foreach m,$(MUTATE_MODULES),--module '$(m)')

bench: install ## benchmarks, side by side: synth, unit suite, local deploy, .ci/run on a clean clone -> docs/benchmarks.md
	$(PY) -m tools.bench

deploy: install ## main job: deploy state backend, CI access and platform (DEPLOY_TARGET=local|aws, ENVIRONMENT=dev)
	$(DEPLOY) deploy

bootstrap-ci: install ## administrator, once per environment: CI's GitHub OIDC roles (access stack), then the GitHub steps left
	$(DEPLOY) bootstrap-ci

plan: install ## plan both stacks; saves the plans + summary.md in PLAN_DIR (exit 2 = changes pending)
	$(DEPLOY) plan --out $(PLAN_DIR)

apply-plan: install ## apply exactly the plans `make plan` saved (refused, nothing applied, if stale)
	$(DEPLOY) apply --plan-dir $(PLAN_DIR)

recover-state: install ## plan both stacks against the state's replica (prod: the primary region is down)
	$(DEPLOY) recover

drift: install ## refresh-only plan of both stacks: exit 2 with a summary when something changed by hand
	$(DEPLOY) drift $(if $(DRIFT_SUMMARY),--summary $(DRIFT_SUMMARY))

destroy: install ## tear everything down (protected environments: CONFIRM=<environment>)
	$(DEPLOY) destroy $(if $(CONFIRM),--confirm $(CONFIRM))

retire-legacy-buckets: install ## after an upgrade: delete the old-named buckets and their objects (CONFIRM=<environment>)
	$(DEPLOY) retire-legacy $(if $(CONFIRM),--confirm $(CONFIRM))

emulator-start: install ## start the embedded emulator (moto + shims) and print its endpoint
	$(PY) -m local_aws start

emulator-stop: ## stop the embedded emulator
	$(PY) -m local_aws stop
