complete -c cc-rm -l root -d 'The store\'s root folder' -r -F
complete -c cc-rm -s f -l force -d 'Kill running containers first; a missing container is not an error'
complete -c cc-rm -s h -l help -d 'Print help'
complete -c cc-rm -s V -l version -d 'Print version'
