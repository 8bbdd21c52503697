complete -c cc-commit -l root -d 'The store\'s root folder' -r -F
complete -c cc-commit -s m -l message -d 'The history entry\'s comment' -r
complete -c cc-commit -s a -l author -d 'The author, as in `Name <mail>`' -r
complete -c cc-commit -s c -l change -d 'A Dockerfile instruction for the config: CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL, STOPSIGNAL, VOLUME (repeatable)' -r
complete -c cc-commit -s p -l pause -d 'Freeze a running container while its files are read (`--pause=false` to let it run on)' -r -f -a "true\t''
false\t''"
complete -c cc-commit -l compress -d 'The layer\'s compression; gzip and zstd use every core' -r -f -a "gzip\t''
zstd\t''
none\t''"
complete -c cc-commit -s h -l help -d 'Print help'
complete -c cc-commit -s V -l version -d 'Print version'
