complete -c cc-save -l root -d 'The store\'s root folder' -r -F
complete -c cc-save -s o -l output -d 'Write to FILE instead of stdout' -r -F
complete -c cc-save -l format -d 'The archive format' -r -f -a "docker-archive\t''
oci-archive\t''"
complete -c cc-save -s h -l help -d 'Print help'
complete -c cc-save -s V -l version -d 'Print version'
