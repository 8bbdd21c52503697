complete -c cc-unpause -l root -d 'The store\'s root folder' -r -F
complete -c cc-unpause -s h -l help -d 'Print help'
complete -c cc-unpause -s V -l version -d 'Print version'
