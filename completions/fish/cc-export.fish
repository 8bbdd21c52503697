complete -c cc-export -l root -d 'The store\'s root folder' -r -F
complete -c cc-export -s o -l output -d 'Write to FILE instead of stdout' -r -F
complete -c cc-export -s h -l help -d 'Print help'
complete -c cc-export -s V -l version -d 'Print version'
