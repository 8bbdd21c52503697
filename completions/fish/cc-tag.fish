complete -c cc-tag -l root -d 'The store\'s root folder' -r -F
complete -c cc-tag -s h -l help -d 'Print help'
complete -c cc-tag -s V -l version -d 'Print version'
