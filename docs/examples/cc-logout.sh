# EXAMPLES of cc-logout(1), shown in its man page; tests/readme.rs runs them. localhost:5000 is a registry on loopback (Debian's docker-registry).

# Forget a registry's credentials.
echo "$REGISTRY_PASSWORD" | cc-login -u me --password-stdin localhost:5000
cc-logout localhost:5000

# From a file of your own.
echo "$REGISTRY_PASSWORD" | REGISTRY_AUTH_FILE=$PWD/auth.json cc-login -u me --password-stdin localhost:5000
REGISTRY_AUTH_FILE=$PWD/auth.json cc-logout localhost:5000
