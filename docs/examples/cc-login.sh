# EXAMPLES of cc-login(1), shown in its man page; tests/readme.rs runs them. localhost:5000 is a registry on loopback (Debian's docker-registry).

# Log in with the password on stdin (the safe way: -p shows it to every user in ps).
echo "$REGISTRY_PASSWORD" | cc-login -u me --password-stdin localhost:5000

# (not run: it asks on a terminal) Asked for the user and the password.
cc-login localhost:5000

# Keep the credentials in a file of your own rather than the default one.
echo "$REGISTRY_PASSWORD" | REGISTRY_AUTH_FILE=$PWD/auth.json cc-login -u me --password-stdin localhost:5000
