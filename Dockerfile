# syntax=docker/dockerfile:1
#
# convirza-sync as a container: a static Go binary on distroless, non-root.
#
#   docker build --build-arg VERSION="$(git describe --tags --always)" -t convirza-sync .
#   docker run --rm --read-only \
#     -v "$PWD/export:/data:ro" -v "$PWD/out:/out" \
#     -e CONVIRZA_TOKEN_FILE=/secrets/token -v "$PWD/token:/secrets/token:ro" \
#     convirza-sync sync --groups /data/groups.csv --report /out/report.md --results /out/results.csv
#
# The root filesystem can (and in Kubernetes should) be read-only: the job
# writes only the files its flags name (--report, --results, --undo,
# --metrics-file, --out), so point them at a mounted directory such as /out.
# The working directory is /work; mount something there if relative output
# paths are used. Credentials come from the environment only (CONVIRZA_TOKEN_FILE,
# or CONVIRZA_EMAIL_FILE and CONVIRZA_PASSWORD_FILE, pointing at mounted
# Secret files); never bake them into the image. See examples/kubernetes/.

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# The version stamped into `convirza-sync version`.
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/convirza-sync ./cmd/convirza-sync

# distroless/static: CA certificates, tzdata and /etc/passwd with the
# nonroot user (uid and gid 65532), and no shell or package manager.
# Pinned by digest (the tag says what it is, the digest which one), so that
# a rebuild takes the same base until someone changes this line. To refresh
# it, read the current digest of the tag and review the change as a commit:
#   crane digest gcr.io/distroless/static-debian12:nonroot
# (or: docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot)
FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
ARG VERSION=dev
LABEL org.opencontainers.image.title="convirza-sync" \
      org.opencontainers.image.description="Keeps Convirza's groups and users in step with a CRM export" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/convirza-sync /convirza-sync
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/convirza-sync"]
CMD ["sync"]
